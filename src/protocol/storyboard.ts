// The message protocol between the storyboard editor (a custom text editor over `*.wanboard.json`) and its
// page, in the one style of ./rpc.ts. The text document is the model: the page asks for edits (by shot index
// and field, never by text offset or file path), and the host answers by re-rendering from the document. A
// file reaches the board only through the host (a picker, or a drop the host checks against the workspace).
// The host validates every message from the page; the page imports only the types.
import { z } from 'zod';
import type { Labels } from './generate';
import { IncomingReply, requestOf, type Reply } from './rpc';

/** webview → host: loaded (again after every reload of the editor). */
export const StoryboardReady = z.object({ type: z.literal('ready') }).strict();

const ShotIndex = z.number().int().nonnegative().max(999);

export const SHOT_FIELDS = ['prompt', 'negativePrompt', 'seed', 'duration', 'start', 'startKeyframe', 'overlap', 'endKeyframe'] as const;
export const SETTING_FIELDS = ['resolution', 'watermark', 'promptExtend', 'soundtrack'] as const;
export type ShotField = (typeof SHOT_FIELDS)[number];
export type SettingField = (typeof SETTING_FIELDS)[number];

/** A value the page sets: null removes an optional field. Its fitness is the board schema's to judge. */
const FieldValue = z.union([z.string().max(20_000), z.number().finite(), z.boolean(), z.null()]);

export const StoryboardEdit = z.discriminatedUnion('op', [
  z.object({ op: z.literal('shot'), index: ShotIndex, field: z.enum(SHOT_FIELDS), value: FieldValue }).strict(),
  z.object({ op: z.literal('setting'), field: z.enum(SETTING_FIELDS), value: FieldValue }).strict(),
  /** A new shot after `after` (at the end without it): continues the shot before it when there is one. */
  z.object({ op: z.literal('add'), after: ShotIndex.optional() }).strict(),
  z.object({ op: z.literal('remove'), index: ShotIndex }).strict(),
  z.object({ op: z.literal('move'), index: ShotIndex, to: ShotIndex }).strict(),
]);
export type StoryboardEdit = z.infer<typeof StoryboardEdit>;

/** Where a picked or dropped file goes. */
export const SlotSchema = z.enum(['start', 'end', 'soundtrack']);
export type Slot = z.infer<typeof SlotSchema>;

export const StoryboardEditRequest = requestOf('edit', StoryboardEdit);
export const StoryboardPickRequest = requestOf('pick', z.object({ slot: SlotSchema, index: ShotIndex.optional() }).strict());
/** Files dragged from the Explorer: URIs the host accepts only when they name an image in the workspace. */
export const StoryboardDropRequest = requestOf(
  'drop',
  z.object({ slot: SlotSchema, index: ShotIndex.optional(), uris: z.array(z.string().min(1).max(4096)).min(1).max(20) }).strict(),
);
export const StoryboardRunRequest = requestOf('run', z.object({ action: z.enum(['generate', 'assemble']) }).strict());
export const StoryboardPlayRequest = requestOf('play', z.object({ index: ShotIndex }).strict());

export const StoryboardPageMessage = z.union([
  StoryboardReady,
  StoryboardEditRequest,
  StoryboardPickRequest,
  StoryboardDropRequest,
  StoryboardRunRequest,
  StoryboardPlayRequest,
  IncomingReply,
]);
export type StoryboardPageMessage = z.infer<typeof StoryboardPageMessage>;

export interface StoryboardParams {
  edit: StoryboardEdit;
  pick: { slot: Slot; index?: number };
  drop: { slot: Slot; index?: number; uris: string[] };
  run: { action: 'generate' | 'assemble' };
  play: { index: number };
}
export interface StoryboardResults {
  /** False when nothing changed (the same value, or a document that cannot be edited now). */
  edit: { changed: boolean };
  pick: { changed: boolean };
  drop: { changed: boolean };
  run: { started: boolean };
  play: { done: boolean };
}

/** One problem of the board, with its JSON path (`['shots', 1, 'duration']`) so the page shows it beside its field. */
export interface ProblemView {
  path: (string | number)[];
  message: string;
}

export type ShotStateView = 'invalid' | 'not-made' | 'outdated' | 'in-flight' | 'queued' | 'running' | 'made';

/** A shot as the page shows it: read loosely from the JSON, so a shot with a wrong field still shows. */
export interface ShotView {
  id: string;
  prompt: string;
  negativePrompt: string;
  /** As written (a number, or what was written instead, for the problem beside it). */
  seed: string;
  duration: string;
  start: 'keyframe' | 'continue' | 'none';
  keyframe: string;
  overlap: string;
  end: string;
  /** Media references of the keyframes (src/protocol/mediaRef.ts), when they are images in the workspace or output folders. */
  startThumb?: string;
  endThumb?: string;
  state?: ShotStateView;
  billedSeconds?: number;
  /** The made clip (a webview URI), played on hover. */
  clip?: string;
}

export interface PlanView {
  ready: boolean;
  /** In the order Generate sends them. */
  sends: { id: string; index: number; billedSeconds: number; after?: string }[];
  billedSeconds: number;
  filmSeconds: number;
  notes: string[];
}

export interface BoardView {
  fileName: string;
  /** A JSON syntax error (with its line and column): nothing can be edited from the page until it is fixed. */
  syntax?: string;
  settings: { resolution: string; watermark: boolean; promptExtend: boolean; soundtrack: string };
  shots: ShotView[];
  problems: ProblemView[];
  /** Absent while the board does not parse. */
  plan?: PlanView;
}

/** host → webview: the greeting (strings and locale). */
export interface StoryboardInit {
  type: 'init';
  labels: Labels;
  locale: string;
}
/** host → webview: the board as it is now (after every change of the document, the task list or a file). */
export interface StoryboardUpdate {
  type: 'board';
  view: BoardView;
}
export type StoryboardReply = Reply<StoryboardResults[keyof StoryboardResults]>;
export type StoryboardHostMessage = StoryboardInit | StoryboardUpdate | StoryboardReply;
