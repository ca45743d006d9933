// Files written whole or not at all: a temporary file beside the target, flushed, then renamed over it.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to a temporary file beside `file`, flushes it, then renames it over `file`. `beforeRename`
 * may refuse the write at the last moment (it throws; e.g. the lock guarding the file was lost).
 */
export async function writeAtomic(file: string, data: string | Buffer, beforeRename?: () => Promise<void>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await beforeRename?.();
    await rename(tmp, file);
  } catch (error) {
    // A full disk fails the write itself: no temporary file is left behind either way.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Removes temporary files left beside `file` by a writer that crashed mid-write. */
export async function removeStaleTemporaries(file: string, olderThanMs = 60_000): Promise<number> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > olderThanMs) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}
