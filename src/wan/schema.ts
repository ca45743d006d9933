// zod schemas for every request and response of the Wan 2.7 image-to-video API.
// Types are inferred from the schemas, never written twice.
import { z } from 'zod';
import { WanValidationError } from './errors';
import {
  DURATION_MAX_S,
  DURATION_MIN_S,
  IMAGE,
  IMAGE_MIME,
  MB,
  MODEL,
  NEGATIVE_PROMPT_MAX_CHARS,
  PROMPT_MAX_CHARS,
  RESOLUTIONS,
  SEED_MAX,
} from './limits';

export const MEDIA_TYPES = ['first_frame', 'last_frame', 'driving_audio', 'first_clip'] as const;
export const MediaTypeSchema = z.enum(MEDIA_TYPES);
export type MediaType = z.infer<typeof MediaTypeSchema>;

/** The order in which the API document names media types in a combination. */
const DISPLAY_ORDER: readonly MediaType[] = ['first_frame', 'first_clip', 'last_frame', 'driving_audio'];

/** The six documented combinations, each written in DISPLAY_ORDER. */
export const VALID_COMBINATIONS: readonly (readonly MediaType[])[] = [
  ['first_frame'],
  ['first_frame', 'driving_audio'],
  ['first_frame', 'last_frame'],
  ['first_frame', 'last_frame', 'driving_audio'],
  ['first_clip'],
  ['first_clip', 'last_frame'],
];

export const IMAGE_TYPES: readonly MediaType[] = ['first_frame', 'last_frame'];

export function describeCombination(types: readonly MediaType[]): string {
  return types.length === 0 ? '(none)' : types.join(' + ');
}

const combinationList = VALID_COMBINATIONS.map(describeCombination).join(', ');

/** Count characters as the service does: one per code point (a Chinese character or a letter is one). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/i;

/** Splits `data:{mime};base64,{data}`; undefined when the URI is not of that form. */
export function parseDataUri(uri: string): { mime: string; base64: string } | undefined {
  const m = DATA_URI.exec(uri);
  return m ? { mime: m[1]!.toLowerCase(), base64: m[2]! } : undefined;
}

/** Bytes that base64 text decodes to: trailing `=` padding stands for no data. */
export function base64DecodedBytes(base64: string): number {
  let end = base64.length;
  while (end > 0 && base64[end - 1] === '=') end--;
  return Math.floor((end * 3) / 4);
}
const IMAGE_MIMES = new Set<string>([...Object.values(IMAGE_MIME), 'image/jpg']);

function urlProblem(type: MediaType, url: string): string | undefined {
  if (/^https?:\/\//i.test(url)) {
    try {
      new URL(url);
      return undefined;
    } catch {
      return `"${url.slice(0, 80)}" is not a valid URL`;
    }
  }
  if (/^oss:\/\/./.test(url)) return undefined;
  if (/^data:/i.test(url)) {
    if (!IMAGE_TYPES.includes(type)) {
      return `${type} must be a public http(s) URL or an uploaded oss:// URL; data: URIs are accepted for images only`;
    }
    const parsed = parseDataUri(url);
    if (!parsed) return 'a data URI must have the form data:{MIME type};base64,{data}';
    const { mime, base64 } = parsed;
    if (!IMAGE_MIMES.has(mime)) {
      return `data URI type ${mime} is not supported; use image/jpeg, image/png, image/bmp or image/webp`;
    }
    const bytes = base64DecodedBytes(base64);
    if (bytes > IMAGE.maxBytes) {
      return `the image is ${(bytes / MB).toFixed(1)} MB (${bytes.toLocaleString('en-US')} bytes); images may be at most ${IMAGE.maxBytes / MB} MB`;
    }
    return undefined;
  }
  const forms = IMAGE_TYPES.includes(type) ? 'an http(s) URL, an oss:// URL or a data: URI' : 'an http(s) URL or an oss:// URL';
  return `"${url.slice(0, 80)}" must be ${forms}`;
}

export const MediaItemSchema = z
  .object({
    type: MediaTypeSchema,
    url: z.string().min(1, 'url is required'),
  })
  .superRefine((item, ctx) => {
    const problem = urlProblem(item.type, item.url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  });
export type MediaItem = z.infer<typeof MediaItemSchema>;

export const ResolutionSchema = z.enum(RESOLUTIONS, { error: `must be ${RESOLUTIONS.join(' or ')}` });
export type Resolution = z.infer<typeof ResolutionSchema>;

export const ParametersSchema = z.object({
  resolution: ResolutionSchema.optional(),
  duration: z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(DURATION_MIN_S, `must be at least ${DURATION_MIN_S} seconds`)
    .max(DURATION_MAX_S, `must be at most ${DURATION_MAX_S} seconds`)
    .optional(),
  prompt_extend: z.boolean().optional(),
  watermark: z.boolean().optional(),
  seed: z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(SEED_MAX, `must be at most ${SEED_MAX}`)
    .optional(),
});
export type Parameters = z.infer<typeof ParametersSchema>;

function lengthRule(limit: number) {
  return z.string().refine((s) => charCount(s) <= limit, {
    error: (iss) =>
      `is ${charCount(String(iss.input))} characters; the limit is ${limit} (the service would silently cut the rest)`,
  });
}

export const InputSchema = z.object({
  prompt: lengthRule(PROMPT_MAX_CHARS).optional(),
  negative_prompt: lengthRule(NEGATIVE_PROMPT_MAX_CHARS).optional(),
  media: z
    .array(MediaItemSchema, { error: 'is required: a list of {type, url} objects' })
    .min(1, 'is required: at least a first_frame or a first_clip')
    .superRefine((media, ctx) => {
      const seen = new Set<MediaType>();
      for (const item of media) {
        if (seen.has(item.type)) {
          ctx.addIssue({
            code: 'custom',
            message: `type ${item.type} appears more than once; each type may appear at most once`,
          });
          return;
        }
        seen.add(item.type);
      }
      if (seen.size === 0) return;
      const types = DISPLAY_ORDER.filter((t) => seen.has(t));
      const valid = VALID_COMBINATIONS.some((c) => c.length === types.length && c.every((t) => seen.has(t)));
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          message: `${describeCombination(types)} is not a valid combination; use one of: ${combinationList}`,
        });
      }
    }),
});

export const CreateTaskRequestSchema = z.object({
  model: z.literal(MODEL, { error: `must be "${MODEL}"` }),
  input: InputSchema,
  parameters: ParametersSchema.optional(),
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequestSchema>;

/** How a JSON path reads in messages (`input.media[0].url`); `whole` names the document when the path is empty. */
export function fieldPath(path: readonly PropertyKey[], whole = '(body)'): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || whole;
}

/** Turns zod issues into one WanValidationError naming each field and its rule. */
export function toValidationError(error: z.ZodError): WanValidationError {
  return new WanValidationError(error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message })));
}

/** Validates a full create body; throws WanValidationError before anything could be sent. */
export function parseCreateRequest(body: unknown): CreateTaskRequest {
  const result = CreateTaskRequestSchema.safeParse(body);
  if (!result.success) throw toValidationError(result.error);
  return result.data;
}

// ---- Responses. Unknown fields are kept: the service may add some. ----

export const ErrorBodySchema = z.looseObject({
  code: z.string(),
  message: z.string().default(''),
  request_id: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const TASK_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'UNKNOWN']);

export const CreateTaskResponseSchema = z.looseObject({
  output: z.looseObject({ task_id: z.string().min(1), task_status: TaskStatusSchema }),
  request_id: z.string().optional(),
});
export type CreateTaskResponse = z.infer<typeof CreateTaskResponseSchema>;

export const UsageSchema = z.looseObject({
  duration: z.number().optional(),
  input_video_duration: z.number().optional(),
  output_video_duration: z.number().optional(),
  SR: z.number().optional(),
  video_count: z.number().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

const times = {
  submit_time: z.string().optional(),
  scheduled_time: z.string().optional(),
  end_time: z.string().optional(),
  orig_prompt: z.string().optional(),
};

const TaskOutputSchema = z.discriminatedUnion('task_status', [
  z.looseObject({ task_id: z.string(), task_status: z.literal('PENDING'), ...times }),
  z.looseObject({ task_id: z.string(), task_status: z.literal('RUNNING'), ...times }),
  z.looseObject({ task_id: z.string(), task_status: z.literal('SUCCEEDED'), ...times, video_url: z.string().url() }),
  z.looseObject({
    task_id: z.string(),
    task_status: z.literal('FAILED'),
    ...times,
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.looseObject({ task_id: z.string(), task_status: z.literal('CANCELED'), ...times }),
  z.looseObject({ task_id: z.string(), task_status: z.literal('UNKNOWN'), ...times }),
]);
export type TaskOutput = z.infer<typeof TaskOutputSchema>;

export const TaskResponseSchema = z.looseObject({
  request_id: z.string().optional(),
  output: TaskOutputSchema,
  usage: UsageSchema.nullish(),
});
export type TaskResponse = z.infer<typeof TaskResponseSchema>;

export const CancelTaskResponseSchema = z.looseObject({ request_id: z.string().optional() });

export const UploadPolicySchema = z.looseObject({
  policy: z.string(),
  signature: z.string(),
  upload_dir: z.string(),
  upload_host: z.string().url(),
  expire_in_seconds: z.number().optional(),
  max_file_size_mb: z.number().optional(),
  capacity_limit_mb: z.number().optional(),
  oss_access_key_id: z.string(),
  x_oss_object_acl: z.string(),
  x_oss_forbid_overwrite: z.string(),
});
export type UploadPolicy = z.infer<typeof UploadPolicySchema>;
export const UploadPolicyResponseSchema = z.looseObject({
  request_id: z.string().optional(),
  data: UploadPolicySchema,
});
export type UploadPolicyResponse = z.infer<typeof UploadPolicyResponseSchema>;

// ---- The task list (GET /api/v1/tasks). Lenient: only task_id and status are needed. ----

/** Counts may come as numbers or numeric strings. */
const count = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);
const listTime = z.union([z.string(), z.number()]).nullish();

export const TaskListItemSchema = z.looseObject({
  task_id: z.string().min(1),
  /** PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED (kept as text: the service may add more). */
  status: z.string(),
  model_name: z.string().nullish(),
  region: z.string().nullish(),
  request_id: z.string().nullish(),
  /** When the task was created (service time, UTC+8). */
  gmt_create: listTime,
  start_time: listTime,
  end_time: listTime,
});
export type TaskListItem = z.infer<typeof TaskListItemSchema>;

export const TaskListResponseSchema = z.looseObject({
  request_id: z.string().optional(),
  total: count.default(0),
  total_page: count.default(0),
  page_no: count.default(1),
  page_size: count.default(10),
  data: z
    .array(TaskListItemSchema)
    .nullish()
    .transform((d) => d ?? []),
});
export type TaskListResponse = z.infer<typeof TaskListResponseSchema>;
