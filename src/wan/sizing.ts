// The output size rule from the API's FAQ, and what a task is billed.
import { TIER_PIXELS } from './limits';
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
