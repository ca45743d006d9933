// The cross-process lock around the task list's read-modify-write. No lock library is among the
// dependencies, and this one needs little: a file created exclusively (`wx`, atomic on every platform)
// holding its owner's token. The holder touches it while it works, so only a lock left by a holder that
// crashed or hung grows stale; a stale lock is moved aside before it is removed, so of two windows taking
// it over at once only one does; and nobody removes a lock whose token is not theirs. A holder taken over
// (it hung past the staleness limit) learns it from `assertHeld`, which the store calls before it renames
// its write into place, and gives up rather than write over the new holder's change.
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileLockOptions {
  /** A lock not touched for this long is taken to be left by a holder that crashed or hung. */
  staleMs?: number;
  /** How long to wait for another holder before giving up. */
  waitMs?: number;
}

/** What `fn` holds: it can check it still does before it makes a change visible. */
export interface HeldLock {
  /** Throws LockLostError when another process took the lock over. */
  assertHeld(): Promise<void>;
}

/** This holder stalled past the staleness limit and another took the lock over: its change was not made. */
export class LockLostError extends Error {
  constructor(lock: string) {
    super(`The lock ${lock} was taken over by another window while this one was stalled.`);
    this.name = 'LockLostError';
  }
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Seen {
  token: string | undefined;
  mtimeMs: number;
}

/** The lock's owner token (undefined for a directory, the lock earlier versions made) and when it was touched. */
async function look(path: string): Promise<Seen | undefined> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) return { token: undefined, mtimeMs: s.mtimeMs };
    const text = await readFile(path, 'utf8');
    return { token: (JSON.parse(text || '{}') as { token?: string }).token ?? '', mtimeMs: s.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof SyntaxError) return { token: '', mtimeMs: Date.now() }; // being written
    throw error;
  }
}

/**
 * Removes the lock only if `still` holds for it once it is moved aside (a rename is atomic: of two
 * removers one gets it); a lock that turns out to be someone else's is put back (`link` never replaces).
 * The aside name ends in `.tmp`, so a crash here leaves what `removeStaleTemporaries` clears.
 */
async function removeIf(lock: string, still: (seen: Seen) => boolean): Promise<boolean> {
  const aside = `${lock}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    await rename(lock, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await look(aside);
  if (moved && !still(moved) && moved.token !== undefined) await link(aside, lock).catch(() => undefined);
  await rm(aside, { recursive: true, force: true });
  return !moved || still(moved);
}

/** Runs `fn` holding the lock at `lock` (a file beside what it guards). */
export async function withFileLock<T>(lock: string, fn: (held: HeldLock) => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const token = randomUUID();
  await mkdir(dirname(lock), { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      await writeFile(lock, JSON.stringify({ token, pid: process.pid }), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const seen = await look(lock);
      const isStale = (s: Seen) => Date.now() - s.mtimeMs > staleMs;
      if (seen && isStale(seen)) {
        await removeIf(lock, (moved) => moved.token === seen.token && isStale(moved));
        continue;
      }
      if (Date.now() > deadline) throw new Error(`The task list is locked by another window (${lock}); try again.`, { cause: error });
      await sleep(wait);
    }
  }

  let lost = false;
  const mine = async () => !lost && (await look(lock))?.token === token;
  // Touched well within the staleness limit, so a holder that is alive, however slow its work, keeps it.
  const touch = setInterval(() => {
    void mine()
      .then(async (held) => {
        if (held) await utimes(lock, new Date(), new Date());
        else lost = true;
      })
      .catch(() => undefined);
  }, Math.max(10, staleMs / 4));
  touch.unref();
  try {
    return await fn({
      assertHeld: async () => {
        if (!(await mine())) {
          lost = true;
          throw new LockLostError(lock);
        }
      },
    });
  } finally {
    clearInterval(touch);
    if (await mine()) await removeIf(lock, (moved) => moved.token === token);
  }
}
