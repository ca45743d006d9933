// Local files for saved results: an MP4 completeness check, folders made step by step, and a quick
// write probe. Used by the download and by the CLI and extension before they pay for a video.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { probeVideo } from './media/video';
import type { Usage } from './schema';

/** Top-level boxes an MP4 may start with. */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin']);
const MAX_BOXES = 10_000;

/**
 * True when `path` is a whole MP4: its top-level boxes tile the file exactly and one is the `moov`
 * index. A file cut short ends inside a box, so this catches truncation even when no length was known.
 */
export async function isCompleteMp4(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(16);
    let offset = 0;
    let moov = false;
    for (let n = 0; offset < size; n++) {
      if (n >= MAX_BOXES || size - offset < 8) return false;
      const { bytesRead } = await fh.read(head, 0, 16, offset);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (n === 0 ? !FIRST_BOXES.has(type) : !/^[\x20-\x7e]{4}$/.test(type)) return false;
      if (boxSize === 1) {
        if (bytesRead < 16) return false;
        boxSize = Number(head.readBigUInt64BE(8));
      } else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < 8 || offset + boxSize > size) return false;
      if (type === 'moov') moov = true;
      offset += boxSize;
    }
    return moov && offset === size;
  } finally {
    await fh.close();
  }
}

/** The length of a task's video, as its usage reports it; undefined when it reports none. */
export function expectedVideoSeconds(usage: Usage | null | undefined): number | undefined {
  const seconds = usage?.output_video_duration ?? usage?.duration;
  return seconds !== undefined && seconds > 0 ? seconds : undefined;
}

/**
 * The seconds of video actually in the MP4 at `path` when that is clearly less than `expectedSeconds`,
 * else undefined. A fragmented MP4 cut at a fragment boundary is whole box by box, so when the server
 * gave no length this is what catches it. The margin allows for rounding in the reported duration.
 */
export async function shortVideoSeconds(path: string, expectedSeconds: number): Promise<number | undefined> {
  const info = await probeVideo(path).catch(() => null);
  if (!info) return undefined;
  const margin = Math.max(0.5, expectedSeconds * 0.05);
  return info.durationSeconds < expectedSeconds - margin ? info.durationSeconds : undefined;
}

/**
 * Creates `dir` and its missing parents one by one. Node's `mkdir(…, {recursive: true})` can spin
 * forever where the kernel refuses a new entry with ENOENT (for example under /proc).
 */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await stat(d);
      if (!s.isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw error;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

class ProbeTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Makes `dir` if needed and proves a file can be written there, by creating and removing a small
 * one. Bounded by `timeoutMs`, so a hung network mount or a pseudo file system cannot stall the caller.
 * Throws an error with a `code` (ENOTDIR, EACCES, EROFS, ENOSPC, ETIMEDOUT, …).
 */
export async function probeWritable(dir: string, timeoutMs = 5000): Promise<void> {
  await within(timeoutMs, `Checking ${dir}`, makeDirs(dir));
  const probe = join(dir, `.wan-write-test-${randomBytes(6).toString('hex')}`);
  try {
    await within(timeoutMs, `Writing to ${dir}`, writeFile(probe, 'wan', { flag: 'wx' }));
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}
