// Wires the task core to this window: a store on globalStorage/tasks.json shared by every window, one
// engine started on activation and stopped (awaited) on deactivate, and a cheap look at the file every
// couple of seconds so changes made by other windows show up and leases they hand back are taken over.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { TaskEngine, type EngineEvents } from '../../tasks/engine';
import type { EndpointRef, ShotLink, TaskRecord, TaskRequest } from '../../tasks/record';
import { isRehearsal, requestSeconds } from '../../tasks/spend';
import { TaskStore, removeStaleTemporaries } from '../../tasks/store';
import { WanValidationError, isLocalFileErrorCode } from '../../wan/errors';
import type { ConnectionFactory } from '../connection';
import { outputFolderFor, outputFolders } from './outputFolder';

const REFRESH_MS = 2000;

export interface TaskServiceOptions {
  file: string;
  connections: ConnectionFactory;
  log: vscode.LogOutputChannel;
  events: EngineEvents;
  /** A lease lapses after this long without renewal (another window then takes the task over). */
  leaseMs?: number;
  /** Holds new requests to the spend caps (throws to refuse them), `held` seconds allowed but not yet queued counted as on their way; see budget.ts. */
  admit?(records: readonly TaskRecord[], requests: readonly TaskRequest[], endpoint: EndpointRef, held: number): Promise<void>;
}

/**
 * Billed seconds the spend caps allowed for a whole (TaskService.admitWhole), drawn on by its parts as they are
 * queued. Until it is released, what is left of it counts for every other request as seconds on their way.
 */
export class Admitted implements vscode.Disposable {
  constructor(
    private remaining: number,
    private readonly onRelease: (a: Admitted) => void = () => {},
  ) {}

  /** Seconds allowed and not yet queued. */
  get left(): number {
    return this.remaining;
  }

  covers(seconds: number): boolean {
    return seconds <= this.remaining;
  }

  /** Takes `seconds` (queued now: their records count from here on). */
  draw(seconds: number): void {
    this.remaining = Math.max(0, this.remaining - seconds);
  }

  /** The whole is over (made, failed or canceled): what was not queued is no longer held. */
  dispose(): void {
    this.remaining = 0;
    this.onRelease(this);
  }
}

/** A new request and where its task belongs and saves. */
export interface Submission {
  request: TaskRequest;
  workspaceFolder?: string;
  outputFolder?: string;
  /** The storyboard shot it is made for. */
  shot?: ShotLink;
}

/** One request of a batch was refused by the engine's checks: which one, so its fields can be marked. */
export class RequestRefused extends WanValidationError {
  constructor(
    readonly request: TaskRequest,
    cause: WanValidationError,
  ) {
    super(cause.issues);
  }
}

export class TaskService implements vscode.Disposable {
  private store!: TaskStore;
  private current!: TaskEngine;
  private refresher: NodeJS.Timeout | undefined;
  private storeListener: vscode.Disposable | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires on every change of the list, made here or by another window. */
  readonly onDidChange = this.changed.event;
  private running = false;
  /** Wholes admitted at once (a storyboard's shots) whose parts are still being queued. */
  private readonly allowances = new Set<Admitted>();

  constructor(private readonly o: TaskServiceOptions) {
    this.build();
  }

  /** A store and an engine with a fresh owner, as a newly opened window has. */
  private build(): void {
    this.storeListener?.dispose();
    this.store = new TaskStore({
      file: this.o.file,
      owner: randomUUID(),
      leaseMs: this.o.leaseMs,
      onWarning: (message) => {
        this.o.log.warn(message);
        void vscode.window.showWarningMessage(message);
      },
    });
    const sub = this.store.onDidChange(() => this.changed.fire());
    this.storeListener = { dispose: () => sub.dispose() };
    const log = this.o.log;
    this.current = new TaskEngine(
      {
        store: this.store,
        connect: (endpoint) => this.o.connections.connectEngine(endpoint),
        outputFolderFor,
        outputFolders: () => Promise.resolve(outputFolders()),
        // Expiry is counted on the service's clock (see ServiceClock).
        now: () => this.o.connections.now(),
        log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
      },
      this.o.events,
    );
  }

  /** The engine of the store now open (a reopened store gets a new one). */
  get engine(): TaskEngine {
    return this.current;
  }

  /** Which window this is, in the store's leases. */
  get owner(): string {
    return this.store.owner;
  }

  get file(): string {
    return this.o.file;
  }

  all(): readonly TaskRecord[] {
    return this.store.all();
  }

  get(id: string): TaskRecord | undefined {
    return this.store.get(id);
  }

  /**
   * Holds a whole whose requests are sent later, one by one (a storyboard's shots, a continuation after the clip
   * it continues), to the spend caps at once: throws as submit does, or returns what it allowed, for the
   * submits of its parts to draw on instead of asking again.
   */
  async admitWhole(requests: readonly TaskRequest[], endpoint: EndpointRef): Promise<Admitted> {
    await this.o.admit?.(this.store.all(), requests, endpoint, this.held());
    const seconds = requests.reduce((s, q) => s + requestSeconds(q), 0);
    // A rehearsal's seconds are never counted against the caps, so they are not held either.
    if (isRehearsal(endpoint)) return new Admitted(seconds);
    const admitted = new Admitted(seconds, (a) => this.allowances.delete(a));
    this.allowances.add(admitted);
    return admitted;
  }

  /** What the open allowances hold for their parts still to be queued (paid endpoints only). */
  private held(): number {
    let seconds = 0;
    for (const a of this.allowances) seconds += a.left;
    return seconds;
  }

  /**
   * The one way a new request reaches the engine, from every entry point (palette, explorer, panel, tree,
   * player, programs, storyboards): the spend caps are checked first for the whole batch (nothing is queued,
   * uploaded or created when they refuse), then each request is checked and queued by the engine. `within`:
   * part of a whole already admitted (admitWhole), checked again only past what it allowed.
   */
  async submit(items: readonly Submission[], endpoint: EndpointRef, within?: Admitted): Promise<TaskRecord[]> {
    const requests = items.map((i) => i.request);
    const seconds = requests.reduce((s, q) => s + requestSeconds(q), 0);
    const covered = within?.covers(seconds) ?? false;
    if (!covered) await this.o.admit?.(this.store.all(), requests, endpoint, this.held());
    const records: TaskRecord[] = [];
    try {
      for (const { request, workspaceFolder, outputFolder, shot } of items) {
        try {
          records.push(await this.current.submit(request, { endpoint, workspaceFolder, outputFolder, shot }));
        } catch (error) {
          throw error instanceof WanValidationError ? new RequestRefused(request, error) : error;
        }
      }
    } finally {
      // Drawn once queued (their records count from now), so no other request's check missed them meanwhile.
      if (covered) within!.draw(seconds);
    }
    return records;
  }

  /** Changes a record directly (the output folder the user just chose, say). */
  patch(id: string, change: (r: TaskRecord) => void): Promise<TaskRecord | undefined> {
    return this.store.patch(id, change);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const t0 = Date.now();
    await removeStaleTemporaries(this.o.file).catch(() => 0);
    await removeStaleTemporaries(this.store.lastGoodFile).catch(() => 0);
    try {
      await this.store.load();
    } catch (error) {
      // A folder that cannot be written: the list is shown as read, and the engine says so and keeps trying.
      if (!isLocalFileErrorCode((error as NodeJS.ErrnoException).code)) throw error;
      this.o.log.warn(`The task list cannot be written: ${String(error)}`);
    }
    this.current.start();
    this.refresher = setInterval(() => {
      this.store.refresh().then(
        (changed) => changed && this.current.wake(),
        (error: unknown) => this.o.log.warn(`Reading the task list failed: ${String(error)}`),
      );
    }, REFRESH_MS);
    this.o.log.info(`Tasks: ${this.store.all().length} in ${this.o.file}, read in ${Date.now() - t0} ms; this window is ${this.store.owner}`);
  }

  /** Stops polling and hands this window's tasks back (another window, or the next one, takes them over). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.refresher) clearInterval(this.refresher);
    this.refresher = undefined;
    await this.current.stop();
  }

  /** Stops, then starts again as a new window would (new owner, new store and engine). */
  async restart(): Promise<void> {
    await this.stop();
    this.build();
    await this.start();
  }

  dispose(): void {
    if (this.refresher) clearInterval(this.refresher);
    this.storeListener?.dispose();
    this.changed.dispose();
  }
}
