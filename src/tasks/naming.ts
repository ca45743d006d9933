// File names for saved videos: they sort by date, say what the video shows, and never overwrite.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_SLUG = 40;

/** "A cat, looking up!" → "a-cat-looking-up"; letters of any script are kept, the rest become dashes. */
export function slugify(text: string, max = MAX_SLUG): string {
  const slug = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= max) return slug;
  const cut = slug.slice(0, max);
  // Cut at a word boundary when one is near the end.
  const dash = cut.lastIndexOf('-');
  return (dash > max / 2 ? cut.slice(0, dash) : cut).replace(/-+$/, '');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local date and time as 2026-11-27_1432. */
export function stamp(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_${pad(date.getHours())}${pad(date.getMinutes())}`;
}

/** The base name (no extension): date, a slug of the prompt or the input's name, a short task ID. */
export function videoBaseName(opts: { date: Date; prompt?: string; fallback?: string; taskId: string }): string {
  const words = slugify(opts.prompt ?? '') || slugify((opts.fallback ?? '').replace(/\.[^.]+$/, '')) || 'video';
  const shortId = opts.taskId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'task';
  return `${stamp(opts.date)}_${words}_${shortId}`;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/**
 * A path in `dir` for `base`.mp4 whose video and record names are both free: `base.mp4`, else
 * `base-2.mp4`, `base-3.mp4`…
 */
export async function freeVideoPath(dir: string, base: string): Promise<{ video: string; record: string }> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    const video = join(dir, `${name}.mp4`);
    const record = join(dir, `${name}.json`);
    if (!(await exists(video)) && !(await exists(record))) return { video, record };
  }
}
