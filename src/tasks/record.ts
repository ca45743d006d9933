// One task as the extension remembers it, from the user's request until its video is saved. Records are
// written before a create is sent, so nothing paid for can be forgotten. No vscode import.
import { z } from 'zod';
import { RESOLUTIONS, TASK_TTL_MS } from '../wan/limits';
import { TaskStatusSchema, UsageSchema } from '../wan/schema';
import { parseServiceTime } from '../wan/time';
import { ACTIVE_STATES, TASK_STATES, needsWork } from './work';

// The task states and the work-left check live in work.ts (no zod: the activation shell reads them).
export { ACTIVE_STATES, TASK_STATES, needsWork };

/** Where a request goes. `baseUrl` is informational for the emulator, whose port changes between runs. */
export const EndpointRefSchema = z.object({
  kind: z.enum(['emulator', 'beijing', 'singapore', 'singapore-workspace', 'custom']),
  baseUrl: z.string(),
});
export type EndpointRef = z.infer<typeof EndpointRefSchema>;

const source = z
  .string()
  .min(1)
  .refine((s) => !/^data:/i.test(s), 'inline data: URIs are not stored; pass a file path or URL');

/** What the user asked for: file paths or URLs (never inline data), prompt and parameters. */
export const TaskRequestSchema = z.object({
  firstFrame: source.optional(),
  lastFrame: source.optional(),
  drivingAudio: source.optional(),
  firstClip: source.optional(),
  prompt: z.string().optional(),
  negativePrompt: z.string().optional(),
  resolution: z.enum(RESOLUTIONS).optional(),
  duration: z.number().int().optional(),
  seed: z.number().int().optional(),
  promptExtend: z.boolean().optional(),
  watermark: z.boolean().optional(),
});
export type TaskRequest = z.infer<typeof TaskRequestSchema>;

/**
 * The storyboard shot a task was made for: its board file (absolute path), the shot's id and the content key
 * of its request. Written into the record beside the saved video too, so a made clip is found by its content
 * after Clear Finished, a reload or in another window, and the same shot never pays twice.
 */
export const ShotLinkSchema = z.object({
  board: z.string().min(1),
  shotId: z.string().min(1),
  key: z.string().min(1),
});
export type ShotLink = z.infer<typeof ShotLinkSchema>;

export const TaskStateSchema = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskStateSchema>;

export const SAVE_STATES = ['waiting', 'saving', 'saved', 'failed', 'expired'] as const;

export const SaveSchema = z.object({
  state: z.enum(SAVE_STATES),
  /** The saved video (absolute path) and its size. */
  file: z.string().optional(),
  bytes: z.number().int().nonnegative().optional(),
  attempts: z.number().int().nonnegative().default(0),
  error: z.string().optional(),
  /** Earliest next attempt, epoch ms. */
  notBefore: z.number().optional(),
  /**
   * Saved, but the record beside the video (its `.json`) could not be written yet (a full disk): only the
   * record is tried again, never the download.
   */
  pendingRecord: z.object({ attempts: z.number().int().nonnegative(), error: z.string().optional() }).optional(),
});
export type Save = z.infer<typeof SaveSchema>;

/** What the last lookup of an interrupted create saw: its time window (epoch ms), the tasks in it, those that fit. */
export const LookupSchema = z.object({
  from: z.number(),
  to: z.number(),
  seen: z.array(z.object({ taskId: z.string(), status: z.string() })),
  fitting: z.array(z.string()),
});
export type Lookup = z.infer<typeof LookupSchema>;

export const LeaseSchema = z.object({ owner: z.string(), until: z.number() });
export type Lease = z.infer<typeof LeaseSchema>;

export const TaskRecordSchema = z.object({
  /** Local ID, stable from the request on (the service's ID comes later). */
  id: z.string().min(1),
  state: TaskStateSchema,
  request: TaskRequestSchema,
  endpoint: EndpointRefSchema,
  /** Made for a storyboard's shot. */
  shot: ShotLinkSchema.optional(),
  /** Workspace folder (fsPath) the task belongs to, and the folder its video goes to. */
  workspaceFolder: z.string().optional(),
  outputFolder: z.string().optional(),
  /** Epoch ms. */
  requestedAt: z.number(),
  updatedAt: z.number(),
  /** When the create was sent (the window in which the service may have created it). */
  sentAt: z.number().optional(),
  /** A queued request waits at least until then (after throttling). */
  notBefore: z.number().optional(),
  createAttempts: z.number().int().nonnegative().default(0),
  taskId: z.string().optional(),
  requestId: z.string().optional(),
  serviceStatus: TaskStatusSchema.optional(),
  submitTime: z.string().optional(),
  scheduledTime: z.string().optional(),
  endTime: z.string().optional(),
  origPrompt: z.string().optional(),
  usage: UsageSchema.nullish(),
  videoUrl: z.string().optional(),
  /** The service's code and message for a failed task, or our own for a refused create. */
  code: z.string().optional(),
  message: z.string().optional(),
  outputSize: z.object({ width: z.number(), height: z.number() }).optional(),
  /** An interrupted create: what its lookup in the task list saw last. */
  lookup: LookupSchema.optional(),
  save: SaveSchema.optional(),
  /** Next poll, epoch ms, and how many polls were made (for the schedule). */
  nextPollAt: z.number().optional(),
  polls: z.number().int().nonnegative().default(0),
  /** Polls in a row that got no answer (the task exists: they are waited out, not given up). */
  pollFailures: z.number().int().nonnegative().default(0),
  /** Whether the end was announced to the user (once per task, across windows). */
  announced: z.boolean().default(false),
  /** Whether the "not saved, expires within the hour" warning was given. */
  expiryWarned: z.boolean().default(false),
  lease: LeaseSchema.optional(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;
/** A record as written by its maker: the counters and flags start from the schema's defaults. */
export type NewTaskRecord = z.input<typeof TaskRecordSchema>;

export function newTaskRecord(fields: NewTaskRecord): TaskRecord {
  return TaskRecordSchema.parse(fields);
}

export const STORE_VERSION = 1;
export const StoreFileSchema = z.object({ version: z.literal(STORE_VERSION), tasks: z.array(TaskRecordSchema) });
export type StoreFile = z.infer<typeof StoreFileSchema>;

/** States in which the service is (or may be) working on the task: they count against the account's limit. */
export const SERVICE_ACTIVE_STATES: ReadonlySet<TaskState> = new Set(['creating', 'pending', 'running']);

export function stateOfStatus(status: z.infer<typeof TaskStatusSchema>): TaskState {
  return status.toLowerCase() as TaskState;
}

/**
 * When the service forgets the task (its ID answers UNKNOWN, its result link dies): 24 h after it ended,
 * or, before it ends, 24 h after it was submitted. Undefined while nothing was sent.
 */
export function expiresAt(r: TaskRecord): number | undefined {
  const end = parseServiceTime(r.endTime)?.getTime();
  if (end !== undefined) return end + TASK_TTL_MS;
  const submit = parseServiceTime(r.submitTime)?.getTime() ?? r.sentAt;
  return submit === undefined ? undefined : submit + TASK_TTL_MS;
}

/**
 * When the task ended, on this machine's clock: its send plus the service's own submit-to-end time, so a window
 * that noticed the end late (a reload) or changed the record since (its save) does not stretch it. Falls back
 * to `noticedAt` when the service's times are missing.
 */
export function endedAt(r: TaskRecord, noticedAt: number): number {
  const submit = parseServiceTime(r.submitTime)?.getTime();
  const end = parseServiceTime(r.endTime)?.getTime();
  return r.sentAt !== undefined && submit !== undefined && end !== undefined && end >= submit ? r.sentAt + (end - submit) : noticedAt;
}

/** A succeeded task whose video was never saved and whose link has died. */
export function isExpired(r: TaskRecord, now: number): boolean {
  const at = expiresAt(r);
  return r.state === 'succeeded' && r.save?.state !== 'saved' && at !== undefined && now >= at;
}

/** Short label for a task: its prompt, or the first input's file name. */
export function taskLabel(r: TaskRecord): string {
  const prompt = r.request.prompt?.replace(/\s+/g, ' ').trim();
  if (prompt) return prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt;
  const src = r.request.firstFrame ?? r.request.firstClip ?? '';
  return src.split(/[\\/]/).pop() || r.taskId || r.id;
}

/**
 * A record's failure as one line, "Code: message". The message of a service's refusal already starts with its
 * code (explainError writes it so), which would read "InvalidApiKey: InvalidApiKey: …".
 */
export function failureText(r: { code?: string | null; message?: string | null }): string {
  const { code, message } = r;
  if (!code) return message ?? '';
  if (!message || message === code || message.startsWith(`${code}:`)) return message || code;
  return `${code}: ${message}`;
}

/** Checks in a row that got no answer before a paid task's row says so (one is a blip). */
export const UNANSWERED_CHECKS_SHOWN = 2;
