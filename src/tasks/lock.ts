// The cross-process lock around the task list's read-modify-write: a directory beside the file
// (mkdir is atomic on every platform).
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileLockOptions {
  /** A lock older than this is taken to be left by a holder that crashed. */
  staleMs?: number;
  /** How long to wait for another holder before giving up. */
  waitMs?: number;
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `fn` holding the lock at `lock`. */
export async function withFileLock<T>(lock: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  await mkdir(dirname(lock), { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that crashed never removes its lock; no healthy holder keeps it for seconds.
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > staleMs) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`The task list is locked by another window (${lock}); try again.`, { cause: error });
      await sleep(wait);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
