// The message protocol between the generation panel (extension host) and its page, defined once with zod.
// The host validates every message from the page with these schemas; the page imports only the types
// (so neither zod nor any limit reaches the page bundle). Requests carry an id and get exactly one reply.
import { z } from 'zod';
import { RESOLUTIONS } from '../wan/limits';
import { parseWith, requestOf, type Reply } from './rpc';

export const MODES = ['animate', 'morph', 'continue'] as const;
export const ModeSchema = z.enum(MODES);
export type Mode = z.infer<typeof ModeSchema>;

export const SLOTS = ['firstFrame', 'lastFrame', 'drivingAudio', 'firstClip'] as const;
export const SlotSchema = z.enum(SLOTS);
export type Slot = z.infer<typeof SlotSchema>;

/** Which inputs each mode uses: the rest of the draft is kept (for switching back) but never sent. */
export const MODE_SLOTS: Record<Mode, readonly Slot[]> = {
  animate: ['firstFrame', 'drivingAudio'],
  morph: ['firstFrame', 'lastFrame', 'drivingAudio'],
  continue: ['firstClip', 'lastFrame'],
};
/** The inputs a mode can do without. */
export const OPTIONAL_SLOTS: Record<Mode, readonly Slot[]> = { animate: ['drivingAudio'], morph: ['drivingAudio'], continue: ['lastFrame'] };

// Transport bounds only (a page can't flood the host); the product's limits are the core's, checked on the host.
const source = z.string().max(8192);
const MAX_BATCH = 50;

/** The form as the user left it. Paths are local file paths; anything else is a URL. */
export const DraftSchema = z
  .object({
    mode: ModeSchema.default('animate'),
    firstFrame: source.optional(),
    lastFrame: source.optional(),
    drivingAudio: source.optional(),
    firstClip: source.optional(),
    /** More first frames for a batch (animate only): one task each, same settings. */
    batch: z.array(source).max(MAX_BATCH).default([]),
    prompt: z.string().max(100_000).default(''),
    negativePrompt: z.string().max(20_000).default(''),
    resolution: z.enum(RESOLUTIONS).default('1080P'),
    /** Whatever the user typed; the core says what is wrong with it. */
    duration: z.number().finite().default(5),
    /** Text as typed: empty means a random seed, picked by the host when the task is submitted. */
    seed: z.string().max(64).default(''),
    promptExtend: z.boolean().default(true),
    watermark: z.boolean().default(false),
  })
  .strict();
export type Draft = z.infer<typeof DraftSchema>;
export type DraftInput = z.input<typeof DraftSchema>;

/** The fields a rule can be shown beside. `media` is the combination, `request` anything else. */
export const FIELDS = [...SLOTS, 'batch', 'prompt', 'negativePrompt', 'resolution', 'duration', 'seed', 'media', 'request'] as const;
export type Field = (typeof FIELDS)[number];

import type { Probe } from './preview';
export { previewOf, type Probe } from './preview';

export const ACTIONS = ['setKey', 'openSettings', 'showLog', 'retry', 'testConnection'] as const;
export const ActionSchema = z.enum(ACTIONS);
export type Action = z.infer<typeof ActionSchema>;

export interface Issue {
  field: Field;
  message: string;
  /** Warnings don't keep Generate disabled. */
  severity: 'error' | 'warning';
  actions?: Action[];
}

export interface Validation {
  /** Echo of the request id that produced it, so a late answer to an old draft is ignored. */
  issues: Issue[];
  probes: Partial<Record<Slot, Probe>>;
  batchProbes: Probe[];
  /** The size the service will choose, when the first frame or clip could be measured. */
  outputSize?: { width: number; height: number };
  billedSeconds?: number;
  /** How many tasks Generate will start. */
  taskCount: number;
  canGenerate: boolean;
}

/** One task the panel follows. */
export interface TaskView {
  id: string;
  label: string;
  state: 'queued' | 'creating' | 'unresolved' | 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'unknown';
  /** Saving the result: waiting, saving, saved, failed, expired. */
  save?: string;
  requestedAt: number;
  /** When the service started it (running), epoch ms, for the elapsed time. */
  startedAt?: number;
  endedAt?: number;
  seed?: number;
  outputSize?: { width: number; height: number };
  /** Webview URI of the saved video. */
  video?: string;
  file?: string;
  /** The saved video's workspace-relative path, as the page shows it. */
  fileLabel?: string;
  error?: { message: string; hint?: string; actions: Action[] };
  /** Why a queued request is waiting (throttled, offline); it goes again by itself. */
  note?: string;
}

// ---- page → host ----

export const ReadyMessage = z.object({ type: z.literal('ready') }).strict();

export const ValidateRequest = requestOf('validate', z.object({ draft: DraftSchema }).strict());
/** Ask the host for an input: a workspace quick pick, a file dialog, or a URL box. */
export const PickRequest = requestOf(
  'pick',
  z.object({ slot: z.union([SlotSchema, z.literal('batch')]), via: z.enum(['workspace', 'dialog', 'url']) }).strict(),
);
/** Files dropped from the explorer (text/uri-list entries); the host puts each where it fits. */
export const DropRequest = requestOf(
  'drop',
  z.object({ slot: SlotSchema.optional(), uris: z.array(z.string().max(8192)).min(1).max(MAX_BATCH), draft: DraftSchema }).strict(),
);
export const GenerateRequest = requestOf('generate', z.object({ draft: DraftSchema }).strict());
export const SeedRequest = requestOf('seed', z.object({ which: z.enum(['random', 'last']) }).strict());
export const ActionRequest = requestOf('action', z.object({ action: ActionSchema, taskId: z.string().max(200).optional() }).strict());
export const OpenRequest = requestOf('open', z.object({ taskId: z.string().max(200), how: z.enum(['player', 'reveal']) }).strict());
/** The page keeps its draft with setState; the host keeps a copy for prefills and commands. */
export const DraftChanged = z.object({ type: z.literal('draft'), draft: DraftSchema }).strict();

export const PageMessageSchema = z.union([
  ReadyMessage,
  DraftChanged,
  ValidateRequest,
  PickRequest,
  DropRequest,
  GenerateRequest,
  SeedRequest,
  ActionRequest,
  OpenRequest,
]);
export type PageMessage = z.infer<typeof PageMessageSchema>;
export type PageRequest = Extract<PageMessage, { type: 'request' }>;
export type Method = PageRequest['method'];
export type ParamsOf<M extends Method> = Extract<PageRequest, { method: M }>['params'];
/** Each method's params, for the host's handler map. */
export type Params = { [M in Method]: ParamsOf<M> };
/** What the page says without asking: `ready`, and every change of its draft. */
export type PageNotification = Exclude<PageMessage, { type: 'request' }>;

/** What each request resolves to. */
export interface Results {
  validate: Validation;
  pick: { values: string[] };
  drop: { draft: Draft; refused: string[] };
  generate: { tasks: TaskView[] };
  seed: { seed?: string };
  action: { done: boolean };
  open: { done: boolean };
}

// ---- host → page ----

export interface Labels {
  [key: string]: string;
}

export interface InitMessage {
  type: 'init';
  draft: Draft;
  labels: Labels;
  locale: string;
  /** For the live counters beside the prompts (the rule itself is checked on the host). */
  promptMax: number;
  negativePromptMax: number;
  /** MODE_SLOTS and OPTIONAL_SLOTS, so the page holds no copy of them. */
  modeSlots: Record<Mode, readonly Slot[]>;
  optionalSlots: Record<Mode, readonly Slot[]>;
  tasks: TaskView[];
}
/** Fill the open form (from an explorer command or a player action). */
export interface PrefillMessage {
  type: 'prefill';
  draft: Draft;
}
export interface TaskMessage {
  type: 'task';
  task: TaskView;
}
/** The verdict may have changed without an edit (the endpoint setting: its warnings, what it takes): ask again. */
export interface RecheckMessage {
  type: 'recheck';
}
/** What a refused request carries besides its message: the fields to mark and the next steps. */
export interface RefusalDetails {
  issues?: Issue[];
  actions?: Action[];
}
export type ReplyMessage = Reply<Results[Method], RefusalDetails>;
export type HostMessage = InitMessage | PrefillMessage | TaskMessage | RecheckMessage | ReplyMessage;

/** Validates a message from the page. Never throws. */
export function parsePageMessage(raw: unknown): { ok: true; message: PageMessage } | { ok: false; error: string } {
  return parseWith(PageMessageSchema, raw);
}

/** The argument of `wanStudio.openGenerator`: paths or URLs as in a TaskRequest. */
export const OpenGeneratorArgSchema = z
  .object({
    prefill: z
      .object({
        firstFrame: z.string().max(8192).optional(),
        lastFrame: z.string().max(8192).optional(),
        drivingAudio: z.string().max(8192).optional(),
        firstClip: z.string().max(8192).optional(),
        prompt: z.string().max(100_000).optional(),
        negativePrompt: z.string().max(20_000).optional(),
        resolution: z.enum(RESOLUTIONS).optional(),
        duration: z.number().finite().optional(),
        seed: z.number().int().optional(),
        promptExtend: z.boolean().optional(),
        watermark: z.boolean().optional(),
      })
      .optional(),
    mode: ModeSchema.optional(),
  })
  .loose();
export type OpenGeneratorArg = z.infer<typeof OpenGeneratorArgSchema>;
