// Puts files and prefills into a draft: which input a file goes to, and which mode that implies.
import type { Draft, Slot } from '../../protocol/generate';

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
