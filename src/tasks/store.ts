// The task store: one JSON file shared by every window of the user. Each change is a read-modify-write
// under a cross-process lock, written to a temporary file and renamed, so a crash at any point leaves
// either the old file or the new one. Each task needing work is leased to one window at a time.
import { randomUUID } from 'node:crypto';
import { copyFile, readFile, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isLocalFileErrorCode } from '../wan/errors';
import { writeAtomic } from './atomicFile';
import { LockLostError, withFileLock, type HeldLock } from './lock';
import { STORE_VERSION, StoreFileSchema, TaskRecordSchema, type NewTaskRecord, type TaskRecord } from './record';

export interface TaskStoreOptions {
  file: string;
  /** Identifies this window's leases. */
  owner?: string;
  /** How long a lease lasts without renewal. */
  leaseMs?: number;
  now?: () => number;
  /** A problem the user should hear about (a file kept aside, records that could not be read). */
  onWarning?: (message: string) => void;
  /** How old the lock may grow before another window takes it over (tests shorten it). */
  lockStaleMs?: number;
}

export { removeStaleTemporaries, writeAtomic } from './atomicFile';

/** What was rebuilt after the task list was found damaged (overwritten, truncated). */
export interface StoreRecovery {
  /** Why the file could not be read, and where it was kept. */
  why: string;
  damagedCopy: string;
  /** A copy of the last good list, kept beside the damaged one (none when there was no good list yet). */
  lastGoodCopy?: string;
  /** Records taken from this window's memory (newer than, or missing from, the last good copy). */
  fromMemory: number;
  /** Records taken from the last good copy. */
  fromLastGood: number;
}

type Listener = () => void;
type RecoveryListener = (recovery: StoreRecovery) => void;

export class TaskStore {
  readonly file: string;
  readonly owner: string;
  readonly leaseMs: number;
  private readonly now: () => number;
  private tasks: TaskRecord[] = [];
  private seen = '';
  private readonly listeners = new Set<Listener>();
  private readonly recoveryListeners = new Set<RecoveryListener>();
  /** The last list written or read whole, beside the file: what a damaged file is rebuilt from. */
  readonly lastGoodFile: string;
  private chain: Promise<unknown> = Promise.resolve();
  /** The file held records that could not be read (a copy is kept aside): the next update rewrites it. */
  private unreadable = false;
  /** The lock while this store holds it: a write checks it still does before it replaces the file. */
  private held: HeldLock | undefined;

  constructor(private readonly options: TaskStoreOptions) {
    this.file = options.file;
    this.owner = options.owner ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.lastGoodFile = join(dirname(this.file), `${basename(this.file, '.json')}.last-good.json`);
  }

  /** The records as last read, newest request first. */
  all(): readonly TaskRecord[] {
    return this.tasks;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  byTaskId(taskId: string): TaskRecord | undefined {
    return this.tasks.find((t) => t.taskId === taskId);
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** The file was damaged and the list rebuilt (from memory and the last good copy), then written again. */
  onDidRecover(listener: RecoveryListener): { dispose(): void } {
    this.recoveryListeners.add(listener);
    return { dispose: () => this.recoveryListeners.delete(listener) };
  }

  /**
   * Reads the file (creating nothing); call once before use. When the folder cannot be written (its lock
   * cannot be made), the list is still read, for display, and the error is thrown.
   */
  async load(): Promise<void> {
    await this.preview();
    try {
      await this.exclusive(async () => {
        await this.read();
      });
    } catch (error) {
      if (!isLocalFileErrorCode((error as NodeJS.ErrnoException).code)) throw error;
      await this.read().catch(() => undefined);
      this.seen = ''; // read again, under the lock, as soon as it can be made
      this.fire();
      throw error;
    }
    this.fire();
  }

  /**
   * Shows the list as it reads before the lock is taken (another window may hold it, or a closed window's lock
   * may have to go stale first), so the Tasks view draws its rows at once. Only a whole, readable list is shown;
   * anything else waits for the locked read, which keeps damage aside and rebuilds.
   */
  private async preview(): Promise<void> {
    try {
      const json = JSON.parse(await readFile(this.file, 'utf8')) as { version?: unknown; tasks?: unknown } | null;
      if (json?.version !== STORE_VERSION || !Array.isArray(json.tasks) || this.tasks.length) return;
      const tasks = json.tasks.map((t) => TaskRecordSchema.safeParse(t));
      if (!tasks.every((t) => t.success)) return;
      this.tasks = tasks.map((t) => t.data);
      this.fire();
    } catch {
      // Not there or not readable yet: the locked read says why.
    }
  }

  /** Re-reads the file if another window changed it; fires onDidChange when it did. */
  async refresh(): Promise<boolean> {
    const sig = await this.signature();
    if (sig === this.seen) return false;
    await this.exclusive(() => this.read());
    this.fire();
    return true;
  }

  /**
   * Applies `change` to the freshest records and writes them. `change` mutates the array or its records
   * in place and may return a value; it must not await (the lock is held).
   */
  update<T>(change: (tasks: TaskRecord[]) => T): Promise<T> {
    const run = async () => {
      const result = await this.exclusive(async () => {
        await this.read();
        const before = JSON.stringify(this.tasks);
        const value = change(this.tasks);
        this.tasks.sort((a, b) => b.requestedAt - a.requestedAt);
        // A change that changed nothing (a claim with no lease to take or renew) leaves the file alone, so
        // idle windows don't rewrite it and wake each other every few seconds.
        if (this.unreadable || JSON.stringify(this.tasks) !== before) await this.write();
        return value;
      });
      this.fire();
      return result;
    };
    // One update at a time within this process, too.
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  add(record: NewTaskRecord): Promise<TaskRecord> {
    const parsed = TaskRecordSchema.parse(record);
    return this.update((tasks) => {
      tasks.push(parsed);
      return parsed;
    });
  }

  /** Changes one record; returns it, or undefined when it is gone (removed by another window). */
  patch(id: string, change: (r: TaskRecord) => void): Promise<TaskRecord | undefined> {
    return this.update((tasks) => {
      const r = tasks.find((t) => t.id === id);
      if (!r) return undefined;
      change(r);
      r.updatedAt = this.now();
      return structuredClone(r);
    });
  }

  remove(ids: readonly string[]): Promise<number> {
    const drop = new Set(ids);
    return this.update((tasks) => {
      const before = tasks.length;
      const kept = tasks.filter((t) => !drop.has(t.id));
      tasks.splice(0, tasks.length, ...kept);
      return before - kept.length;
    });
  }

  /** True when this store holds a live lease on the record. */
  holds(r: TaskRecord): boolean {
    return r.lease?.owner === this.owner && r.lease.until > this.now();
  }

  /**
   * Leases to this window every record that `wanted` selects and nobody else holds (a lease left by a
   * closed window lapses after leaseMs); renews the ones it holds. Returns the IDs it holds now.
   */
  claim(wanted: (r: TaskRecord) => boolean): Promise<string[]> {
    return this.update((tasks) => {
      const now = this.now();
      const held: string[] = [];
      for (const r of tasks) {
        if (!wanted(r)) {
          if (r.lease?.owner === this.owner) r.lease = undefined;
          continue;
        }
        const mine = r.lease?.owner === this.owner && r.lease.until > now;
        if (mine && r.lease!.until - now > this.leaseMs / 2) {
          // Renewed only once half of it is left: a renewal rewrites the file every window reads.
          held.push(r.id);
        } else if (!r.lease || mine || r.lease.until <= now || r.lease.owner === this.owner) {
          r.lease = { owner: this.owner, until: now + this.leaseMs };
          held.push(r.id);
        }
      }
      return held;
    });
  }

  /** Gives up this window's leases so another window can take over at once. */
  release(): Promise<void> {
    return this.update((tasks) => {
      for (const r of tasks) if (r.lease?.owner === this.owner) r.lease = undefined;
    });
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }

  private async signature(): Promise<string> {
    try {
      const s = await stat(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'absent';
    }
  }

  private async read(): Promise<void> {
    this.unreadable = false;
    const memory = this.tasks;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.tasks = [];
      this.seen = 'absent';
      return;
    }
    const parsed = await this.parse(text);
    if (Array.isArray(parsed)) {
      this.tasks = parsed;
      this.seen = await this.signature();
    } else {
      await this.rebuild(memory, parsed);
    }
  }

  /**
   * The file is damaged (kept aside already): the list is rebuilt from the last good copy and this window's
   * memory, written again at once (so other windows read it, not the damage), and reported.
   */
  private async rebuild(memory: readonly TaskRecord[], damage: { why: string; damagedCopy: string }): Promise<void> {
    const lastGood = await this.readLastGood();
    const rebuilt = new Map<string, { record: TaskRecord; fromMemory: boolean }>();
    for (const r of lastGood) rebuilt.set(r.id, { record: r, fromMemory: false });
    for (const r of memory) {
      const good = rebuilt.get(r.id);
      if (!good || r.updatedAt > good.record.updatedAt) rebuilt.set(r.id, { record: structuredClone(r), fromMemory: true });
    }
    let lastGoodCopy: string | undefined;
    if (lastGood.length) {
      lastGoodCopy = this.asidePath('last-good');
      await copyFile(this.lastGoodFile, lastGoodCopy).catch(() => (lastGoodCopy = undefined));
    }
    const all = [...rebuilt.values()];
    this.tasks = all.map((e) => e.record).sort((a, b) => b.requestedAt - a.requestedAt);
    await this.write();
    const recovery: StoreRecovery = {
      ...damage,
      lastGoodCopy,
      fromMemory: all.filter((e) => e.fromMemory).length,
      fromLastGood: all.filter((e) => !e.fromMemory).length,
    };
    // After the lock is released: listeners may change the list.
    setImmediate(() => {
      for (const l of [...this.recoveryListeners]) l(recovery);
    });
  }

  private async readLastGood(): Promise<TaskRecord[]> {
    try {
      const parsed = StoreFileSchema.safeParse(JSON.parse(await readFile(this.lastGoodFile, 'utf8')));
      return parsed.success ? parsed.data.tasks : [];
    } catch {
      return [];
    }
  }

  /**
   * Reads what can be read; a file that cannot be trusted whole is copied aside first, never dropped. A
   * damaged file (not a task list at all) is returned as such, to be rebuilt.
   */
  private async parse(text: string): Promise<TaskRecord[] | { why: string; damagedCopy: string }> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const why = 'it is not valid JSON';
      return { why, damagedCopy: await this.keepAside('corrupt', why, false, true) };
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > STORE_VERSION) {
      await this.keepAside(`v${version}`, `it was written by a newer version of Wan Studio (format ${version})`);
      return [];
    }
    const raw = (json as { tasks?: unknown } | null)?.tasks;
    if (version !== STORE_VERSION || !Array.isArray(raw)) {
      const why = 'it is not a Wan Studio task list';
      return { why, damagedCopy: await this.keepAside('corrupt', why, false, true) };
    }
    const tasks: TaskRecord[] = [];
    let bad = 0;
    for (const item of raw) {
      const r = TaskRecordSchema.safeParse(item);
      if (r.success) tasks.push(r.data);
      else bad++;
    }
    this.unreadable = bad > 0;
    if (bad) await this.keepAside('partial', `${bad} of its ${raw.length} records could not be read`, true);
    return tasks;
  }

  private asidePath(tag: string): string {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    return join(dirname(this.file), `${basename(this.file, '.json')}.${tag}-${stamp}.json`);
  }

  private async keepAside(tag: string, why: string, copy = false, rebuilt = false): Promise<string> {
    const aside = this.asidePath(tag);
    if (copy) await writeAtomic(aside, await readFile(this.file));
    else await rename(this.file, aside);
    // A rebuilt list is reported once, with what was recovered, by whoever listens for it.
    if (!rebuilt || this.recoveryListeners.size === 0) this.options.onWarning?.(`The task list ${this.file} was kept aside as ${aside} because ${why}.`);
    return aside;
  }

  private async write(): Promise<void> {
    const text = `${JSON.stringify({ version: STORE_VERSION, tasks: this.tasks }, null, 1)}\n`;
    await writeAtomic(this.file, text, () => this.held?.assertHeld() ?? Promise.resolve());
    this.unreadable = false;
    this.seen = await this.signature();
    // The copy a damaged file is rebuilt from; the list itself is written, so a failure here costs nothing yet.
    await writeAtomic(this.lastGoodFile, text).catch(() => undefined);
  }

  /**
   * Runs `fn` holding the store's lock. `fn` reads the file first, so when this window stalled and another
   * took the lock over (nothing was written), running it again applies the change to the newer list.
   */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withFileLock(
          `${this.file}.lock`,
          async (held) => {
            this.held = held;
            try {
              return await fn();
            } finally {
              this.held = undefined;
            }
          },
          { staleMs: this.options.lockStaleMs },
        );
      } catch (error) {
        if (!(error instanceof LockLostError) || attempt >= 3) throw error;
      }
    }
  }
}
