// The one way every entry point (Explorer, editor title, player, Tasks view, palette, a program calling
// wanStudio.openGenerator) builds the generation panel's request: from what that action chose and nothing
// else. The form's earlier inputs are never merged in, so nothing the user no longer sees is sent.
import { DraftSchema, type Draft, type Mode, type OpenGeneratorArg } from '../protocol/generate';
import { isUrl } from '../wan/request';
import { continuationDurations } from '../wan/sizing';

export interface EntryExtras {
  /** More first frames (a multi-selection): one task each. */
  batch?: readonly string[];
  /** The first clip's length when it could be measured: a continuation's default duration must exceed it. */
  clipSeconds?: number;
}

/** True when an argument chooses anything (an empty one only reveals the panel as it is). */
export function choosesSomething(arg: OpenGeneratorArg, batch?: readonly string[]): boolean {
  return !!arg.prefill || !!arg.mode || !!batch;
}

/** The mode an action implies: its own, else a clip continues, two frames morph, anything else animates. */
function modeOf(arg: OpenGeneratorArg): Mode {
  const p = arg.prefill ?? {};
  if (arg.mode) return arg.mode;
  if (p.firstClip !== undefined) return 'continue';
  if (p.firstFrame !== undefined && p.lastFrame !== undefined) return 'morph';
  return 'animate';
}

/** The local clip whose length the default duration depends on (none when a duration was chosen). */
export function clipToMeasure(arg: OpenGeneratorArg): string | undefined {
  const clip = arg.prefill?.firstClip;
  if (modeOf(arg) !== 'continue' || !clip || arg.prefill?.duration !== undefined || isUrl(clip)) return undefined;
  return clip;
}

/** A fresh draft holding only what the action chose; every other field is the form's default. */
export function entryDraft(arg: OpenGeneratorArg, extras: EntryExtras = {}): Draft {
  const p = arg.prefill ?? {};
  const draft = DraftSchema.parse({});
  draft.mode = modeOf(arg);
  for (const slot of ['firstFrame', 'lastFrame', 'drivingAudio', 'firstClip'] as const) if (p[slot] !== undefined) draft[slot] = p[slot];
  draft.batch = [...(extras.batch ?? [])];
  if (p.prompt !== undefined) draft.prompt = p.prompt;
  if (p.negativePrompt !== undefined) draft.negativePrompt = p.negativePrompt;
  if (p.resolution !== undefined) draft.resolution = p.resolution;
  if (p.seed !== undefined) draft.seed = String(p.seed);
  if (p.promptExtend !== undefined) draft.promptExtend = p.promptExtend;
  if (p.watermark !== undefined) draft.watermark = p.watermark;
  if (p.duration !== undefined) draft.duration = p.duration;
  else if (draft.mode === 'continue' && extras.clipSeconds !== undefined) draft.duration = continuationDurations(extras.clipSeconds).suggested;
  return draft;
}
