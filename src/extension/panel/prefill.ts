// Puts files and prefills into a draft: which input a file goes to, and which mode that implies.
import type { Draft, OpenGeneratorArg, Slot } from '../../protocol/generate';

export const IMAGE_EXT = /\.(jpe?g|png|bmp|webp)$/i;
export const VIDEO_EXT = /\.(mp4|mov)$/i;
export const AUDIO_EXT = /\.(mp3|wav)$/i;

export type FileKind = 'image' | 'video' | 'audio';

export function kindOf(path: string): FileKind | undefined {
  const bare = path.replace(/[?#].*$/, '');
  return IMAGE_EXT.test(bare) ? 'image' : VIDEO_EXT.test(bare) ? 'video' : AUDIO_EXT.test(bare) ? 'audio' : undefined;
}

const SLOT_KIND: Record<Slot, FileKind> = { firstFrame: 'image', lastFrame: 'image', drivingAudio: 'audio', firstClip: 'video' };

export function fits(slot: Slot, path: string): boolean {
  return kindOf(path) === SLOT_KIND[slot];
}

/** Applies `wanStudio.openGenerator`'s argument: given fields replace the draft's, the rest stay. */
export function applyPrefill(draft: Draft, arg: OpenGeneratorArg, batch?: string[]): Draft {
  const next: Draft = { ...draft, batch: [...draft.batch] };
  const p = arg.prefill ?? {};
  for (const slot of ['firstFrame', 'lastFrame', 'drivingAudio', 'firstClip'] as const) {
    if (p[slot] !== undefined) next[slot] = p[slot];
  }
  if (p.firstFrame !== undefined || batch) next.batch = batch ?? [];
  if (p.prompt !== undefined) next.prompt = p.prompt;
  if (p.negativePrompt !== undefined) next.negativePrompt = p.negativePrompt;
  if (p.resolution !== undefined) next.resolution = p.resolution;
  if (p.duration !== undefined) next.duration = p.duration;
  if (p.seed !== undefined) next.seed = String(p.seed);
  if (p.promptExtend !== undefined) next.promptExtend = p.promptExtend;
  if (p.watermark !== undefined) next.watermark = p.watermark;
  if (arg.mode) next.mode = arg.mode;
  else if (p.firstClip !== undefined) next.mode = 'continue';
  else if (p.firstFrame !== undefined && p.lastFrame !== undefined) next.mode = 'morph';
  else if (p.firstFrame !== undefined && next.mode === 'continue') next.mode = 'animate';
  else if (p.drivingAudio !== undefined && next.mode === 'continue') next.mode = 'animate';
  return next;
}

/** Puts dropped or picked files into the draft: into `slot` when given and fitting, else where each kind goes. */
export function placeFiles(draft: Draft, paths: readonly string[], slot?: Slot): { draft: Draft; refused: string[] } {
  const next: Draft = { ...draft, batch: [...draft.batch] };
  const refused: string[] = [];
  const images: string[] = [];
  for (const path of paths) {
    if (slot && fits(slot, path) && paths.length === 1) {
      next[slot] = path;
      continue;
    }
    const kind = kindOf(path);
    if (kind === 'image') images.push(path);
    else if (kind === 'video') {
      next.firstClip = path;
      next.mode = 'continue';
    } else if (kind === 'audio') {
      next.drivingAudio = path;
      if (next.mode === 'continue') next.mode = 'animate';
    } else refused.push(path);
  }
  if (images.length) {
    if (next.mode === 'continue') next.lastFrame = images[0];
    else if (next.mode === 'morph') {
      if (images.length >= 2 || !next.firstFrame) [next.firstFrame, next.lastFrame = next.lastFrame] = images;
      else next.lastFrame = images[0];
    } else if (!next.firstFrame) {
      next.firstFrame = images[0];
      next.batch.push(...images.slice(1));
    } else next.batch.push(...images);
  }
  return { draft: next, refused };
}
