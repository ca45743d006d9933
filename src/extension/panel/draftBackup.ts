// A copy of the open form on the host's disk. The page's setState is persisted by the workbench on its
// own schedule, and a browser reload (code-server) can drop the latest edits; this file cannot, so a
// revived panel takes whichever is there. Used only to revive a panel, never for a new one.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../../tasks/atomicFile';

/** What the page keeps with setState, and the serializer hands back after a reload. */
export interface PanelState {
  draft?: unknown;
  taskIds?: unknown;
}

const WRITE_DELAY_MS = 200;

export class DraftBackup {
  private readonly file: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: PanelState | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(dir: string | undefined, private readonly onError: (message: string) => void) {
    this.file = dir ? join(dir, 'generator-draft.json') : undefined;
  }

  save(state: PanelState): void {
    if (!this.file) return;
    this.pending = state;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writing.then(() => this.flush());
    }, WRITE_DELAY_MS);
  }

  private async flush(): Promise<void> {
    const state = this.pending;
    const file = this.file;
    if (!state || !file) return;
    this.pending = undefined;
    try {
      await writeAtomic(file, JSON.stringify(state));
    } catch (error) {
      this.onError(`Could not keep the generator's draft: ${String(error)}`);
    }
  }

  async load(): Promise<PanelState | undefined> {
    if (!this.file) return undefined;
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes what is pending now; the last copy is on disk once `settled()` resolves. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.flush());
  }

  /** Resolves once every copy asked for so far was written (or failed and was reported). */
  settled(): Promise<void> {
    return this.writing;
  }
}
