// The output size rule from the API's FAQ, and what a task is billed.
import { DURATION_DEFAULT_S, DURATION_MAX_S, DURATION_MIN_S, TIER_PIXELS } from './limits';
import type { Resolution } from './schema';

export interface Size {
  width: number;
  height: number;
}

/**
 * Keeps the input's aspect at about the tier's pixel count, each side rounded down to a multiple of 16.
 * The FAQ's example: 750x1000 at 720P gives 816x1104.
 */
export function estimateOutputSize(input: Size, resolution: Resolution): Size {
  const aspect = input.width / input.height;
  const pixels = TIER_PIXELS[resolution];
  const down16 = (v: number) => Math.max(16, Math.floor(v / 16) * 16);
  return { width: down16(Math.sqrt(pixels * aspect)), height: down16(Math.sqrt(pixels / aspect)) };
}

/** Billing is per output second: `duration` is the whole output, even when it continues a clip. */
export function billedSeconds(duration: number): number {
  return duration;
}

/** How many seconds a continuation adds after a first clip. */
export function continuationSeconds(duration: number, clipSeconds: number): number {
  return Math.max(0, duration - clipSeconds);
}

/**
 * The durations a continuation of a `clipSeconds` clip may ask for: `duration` is the whole output, so it
 * must be longer than the clip. `suggested` adds as much new video as a default generation has.
 */
export function continuationDurations(clipSeconds: number): { min: number; suggested: number } {
  const min = Math.min(DURATION_MAX_S, Math.max(DURATION_MIN_S, Math.floor(clipSeconds) + 1));
  return { min, suggested: Math.min(DURATION_MAX_S, Math.max(min, Math.floor(clipSeconds) + DURATION_DEFAULT_S)) };
}
