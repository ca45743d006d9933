// Turns what a user picked (local files or URLs, a prompt, parameters) into a checked create body.
// Everything is validated before the first byte goes out: the cheap checks first, then the files.
import { WanValidationError } from './errors';
import { DURATION_DEFAULT_S, MODEL, RESOLUTION_DEFAULT } from './limits';
import {
  readImageAsDataUri,
  validateDataUriImage,
  validateLocalMedia,
  type AudioInfo,
  type ImageInfo,
  type MediaFormat,
  type VideoInfo,
} from './media';
import { parseCreateRequest, type CreateTaskRequest, type MediaItem, type MediaType, type Resolution } from './schema';
import { billedSeconds, estimateOutputSize, type Size } from './sizing';

export interface GenerationInput {
  /** Each source is a local file path, or an http(s), oss:// or data: URL passed through as it is. */
  firstFrame?: string;
  lastFrame?: string;
  drivingAudio?: string;
  firstClip?: string;
  prompt?: string;
  negativePrompt?: string;
  resolution?: Resolution;
  duration?: number;
  seed?: number;
  promptExtend?: boolean;
  watermark?: boolean;
}

declare const checkedBody: unique symbol;
/**
 * A create body checked whole (schema, combination, the bytes of every inline image): what
 * `prepareRequest` and `checkCreateBody` return, and the only kind `WanClient.createTask` sends, so the
 * client never parses a body again.
 */
export type CheckedCreateRequest = CreateTaskRequest & { readonly [checkedBody]: true };

/**
 * Checks a create body built by hand (a script, a test, an adopted body): the schema, then each inline
 * image's bytes, so a task the service would fail is never paid for.
 */
export async function checkCreateBody(body: unknown): Promise<CheckedCreateRequest> {
  const req = parseCreateRequest(body);
  const issues: WanValidationError['issues'][number][] = [];
  for (const m of req.input.media) {
    if ((m.type !== 'first_frame' && m.type !== 'last_frame') || !/^data:/i.test(m.url)) continue;
    try {
      await validateDataUriImage(m.type, m.url);
    } catch (error) {
      if (!(error instanceof WanValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length) throw new WanValidationError(issues);
  return req as CheckedCreateRequest;
}

export interface PreparedRequest {
  body: CheckedCreateRequest;
  /** Output size by the FAQ rule, when the first frame or clip is a local file we could measure. */
  outputSize?: Size;
  billedSeconds: number;
  resolution: Resolution;
  duration: number;
}

/**
 * Local audio and video must become URLs; the client's temporary upload gives oss:// ones. `media.format`
 * is what the file was probed to be, so the object can be named for it (WanClient.uploadFile's `format`).
 */
export type Uploader = (path: string, media: { type: MediaType; format: MediaFormat }) => Promise<string>;

export function isUrl(source: string): boolean {
  return /^(https?:\/\/|oss:\/\/|data:)/i.test(source);
}

function sources(input: GenerationInput): [MediaType, string][] {
  const all: [MediaType, string | undefined][] = [
    ['first_frame', input.firstFrame],
    ['first_clip', input.firstClip],
    ['last_frame', input.lastFrame],
    ['driving_audio', input.drivingAudio],
  ];
  return all.filter((s): s is [MediaType, string] => typeof s[1] === 'string' && s[1].trim() !== '');
}

function bodyWith(input: GenerationInput, media: MediaItem[]): unknown {
  const parameters = {
    resolution: input.resolution ?? RESOLUTION_DEFAULT,
    duration: input.duration ?? DURATION_DEFAULT_S,
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.promptExtend !== undefined ? { prompt_extend: input.promptExtend } : {}),
    ...(input.watermark !== undefined ? { watermark: input.watermark } : {}),
  };
  return {
    model: MODEL,
    input: {
      ...(input.prompt ? { prompt: input.prompt } : {}),
      ...(input.negativePrompt ? { negative_prompt: input.negativePrompt } : {}),
      media,
    },
    parameters,
  };
}

/**
 * What checking a request found: every rule met, every local file probed (none read whole, nothing encoded
 * or uploaded), and what preparing needs from it. Cheap enough to run on every edit of a draft.
 */
export interface CheckedRequest {
  input: GenerationInput;
  /** Output size by the FAQ rule, when the first frame or clip is a local file we could measure. */
  outputSize?: Size;
  billedSeconds: number;
  resolution: Resolution;
  duration: number;
  /** Each local file's probed format, so its upload can be named for it. */
  formats: ReadonlyMap<MediaType, MediaFormat>;
}

/** Checks a request without reading any file whole: the combination and parameters, then each file's probe. */
export async function checkRequest(input: GenerationInput): Promise<CheckedRequest> {
  const picked = sources(input);
  // Local paths stand in as placeholder URLs, so the combination and every parameter are checked
  // before any file is opened.
  parseCreateRequest(
    bodyWith(
      input,
      picked.map(([type, src]) => ({ type, url: isUrl(src) ? src : 'https://local.file.invalid/' })),
    ),
  );

  const issues: { field: string; message: string }[] = [];
  let outputBasis: Size | undefined;
  let clipSeconds: number | undefined;
  const resolution = input.resolution ?? RESOLUTION_DEFAULT;
  const duration = input.duration ?? DURATION_DEFAULT_S;
  const formats = new Map<MediaType, MediaFormat>();
  const check = async (type: MediaType, src: string): Promise<ImageInfo | AudioInfo | VideoInfo | undefined> => {
    const image = type === 'first_frame' || type === 'last_frame';
    if (image && /^data:/i.test(src)) return validateDataUriImage(type, src);
    if (isUrl(src)) return undefined;
    return validateLocalMedia(type, src);
  };
  for (const [type, src] of picked) {
    try {
      const info = await check(type, src);
      if (!info) continue;
      formats.set(type, info.format);
      if ('width' in info && (type === 'first_frame' || type === 'first_clip')) outputBasis = { width: info.width, height: info.height };
      if ('width' in info && 'durationSeconds' in info) clipSeconds = info.durationSeconds;
    } catch (error) {
      if (!(error instanceof WanValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (clipSeconds !== undefined && clipSeconds >= duration) {
    issues.push({
      field: 'parameters.duration',
      message: `is ${duration} s, but the first clip is already ${clipSeconds.toFixed(1)} s; duration is the total output length, so it must be longer than the clip to leave room for a continuation`,
    });
  }
  if (issues.length) throw new WanValidationError(issues);
  return {
    input,
    outputSize: outputBasis && estimateOutputSize(outputBasis, resolution),
    billedSeconds: billedSeconds(duration),
    resolution,
    duration,
    formats,
  };
}

/**
 * Turns a request into its create body, once, just before the create: local images are read and encoded
 * (checked again from the very bytes sent), audio and video uploaded. Checks first unless given the check.
 */
export async function prepareRequest(input: GenerationInput, upload: Uploader, checked?: CheckedRequest): Promise<PreparedRequest> {
  const c = checked ?? (await checkRequest(input));
  const media: MediaItem[] = [];
  for (const [type, src] of sources(input)) {
    const image = type === 'first_frame' || type === 'last_frame';
    const url = isUrl(src) ? src : image ? (await readImageAsDataUri(src, type)).dataUri : await upload(src, { type, format: c.formats.get(type)! });
    media.push({ type, url });
  }
  // Every inline image was checked from the very bytes encoded (or, given as data:, by checkRequest).
  const body = parseCreateRequest(bodyWith(input, media)) as CheckedCreateRequest;
  return { body, outputSize: c.outputSize, billedSeconds: c.billedSeconds, resolution: c.resolution, duration: c.duration };
}
