// The task engine: owns every task from the user's request until its video is saved. One timer drives
// the queue, the polls, the lookups of interrupted creates and the downloads of every task this window
// leases. Nothing else talks to the service for a task. No vscode import: the extension wires it.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanNetworkError,
  WanLocalFileError,
  WanValidationError,
  isLocalFileErrorCode,
  expectedVideoSeconds,
  DEFAULT_RETRY,
  explainError,
  sleep,
  findTasksCreatedBetween,
  isTransient,
  nextPollDelay,
  prepareRequest,
  taskCreatedAt,
  decideMatch,
  checkCandidates,
  type CandidateTask,
  type LostCreate,
  type PollSchedule,
  type CreateTaskResponse,
  type TaskResponse,
  type WanClient,
} from '../wan';
import type { Dispatcher } from 'undici';
import { downloadFile } from '../wan/download';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../wan/http';
import { parseServiceTime } from '../wan/time';
import { freeVideoPath, videoBaseName } from './naming';
import { WAN_I2V_LIMITS, admit, throttleDelay, type AccountLimits } from './queue';
import {
  TaskRequestSchema,
  expiresAt,
  needsWork,
  stateOfStatus,
  type EndpointRef,
  type TaskRecord,
  type TaskRequest,
} from './record';
import { SavedVideoIndex, recordOfSidecar, sidecarFor, sidecarPathOf, writeSidecar, type VideoSidecar } from './sidecar';
import { EndPredictor, historyOfRecords, recordSchedule } from './schedule';
import type { StoreRecovery, TaskStore } from './store';

/** A task the service knows of, as its list endpoint describes it. */
export interface ListedTask {
  taskId: string;
  status: string;
  createdAt?: number;
}

export interface EngineConnection {
  client: WanClient;
  endpoint: EndpointRef;
}

export interface EngineLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineDeps {
  store: TaskStore;
  /** A client for the record's endpoint (or the configured one), with the stored key. The engine closes it. */
  connect(endpoint?: EndpointRef): Promise<EngineConnection>;
  /** When to poll a running task again (by default learned from the store's finished tasks; adaptive until it knows). */
  schedule?: PollSchedule;
  /** Where a task's video goes when its record names no folder; undefined: ask later (the save waits). */
  outputFolderFor?(record: TaskRecord): Promise<string | undefined>;
  log: EngineLog;
  limits?: AccountLimits;
  now?: () => number;
  random?: () => number;
  /** How long an interrupted create is looked up before it is called unresolved. */
  lookupWindowMs?: number;
  /** Writes the record beside a saved video (the sidecar's writer by default; tests make the disk fill). */
  writeRecord?(path: string, sidecar: VideoSidecar): Promise<void>;
  /** The folders videos are saved in now (the workspaces' output folders): a rebuilt list looks there too. */
  outputFolders?: () => Promise<string[]>;
  /** Reads a record beside a saved video (node:fs by default; tests count the reads). */
  readRecord?: (path: string) => Promise<string>;
}

/** An endpoint nothing answers at (connection refused, no such host, …): requests wait for it. */
export interface Outage {
  /** The URL that failed: the endpoint's base, or the upload host that could not be reached. */
  url: string;
  endpoint: EndpointRef;
  /** The local failure, e.g. "Create task failed: ECONNREFUSED (http://127.0.0.1:9)". */
  reason: string;
  /** The requests waiting for it (queued, never sent). */
  waiting: string[];
}

export interface EngineEvents {
  /** A task reached its end (saved, failed, canceled, unknown, or saved failed for good); once per task. */
  ended?(record: TaskRecord): void;
  /** Nothing answered at an endpoint a request was to go to; once per outage, not per retry. */
  unreachable?(outage: Outage): void;
  /** A succeeded task's video is not saved and its link dies within the hour; once per task. */
  expiring?(record: TaskRecord): void;
  /**
   * The task list was found damaged and rebuilt; then the account's tasks of the last 24 hours were added
   * again (`added`), or reading them failed (`error`).
   */
  recovered?(recovery: StoreRecovery, outcome: { added: TaskRecord[] } | { error: string }, fromRecords: TaskRecord[]): void;
  /** The task list cannot be written (read-only, full, removed…): `problem` once; undefined once it can again. */
  storage?(problem: string | undefined): void;
  /** An interrupted create was looked up and not resolved: the user decides (its `lookup` says what was seen). */
  unresolved?(record: TaskRecord): void;
}

/** A refusal of the local file system (read-only, full, a file in the way), not a bug or the network. */
function isStorageError(error: unknown): boolean {
  return isLocalFileErrorCode((error as NodeJS.ErrnoException | undefined)?.code);
}

/** Failures of the create that sent nothing: the request can simply wait and go again. */
function isThrottling(error: unknown): error is WanApiError {
  return error instanceof WanApiError && error.httpStatus === 429 && /^(Throttling|LimitRequests)/.test(error.code);
}

/** A request waiting for an unreachable endpoint tries again after 5 s, doubling up to 5 min. */
function outageDelay(failures: number, random: () => number): number {
  const backoff = Math.min(5 * 60_000, 5_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(backoff / 2 + (random() * backoff) / 2);
}

/** Nothing was sent because nothing answered there: the request waits for the endpoint. */
function isUnreachable(error: unknown): error is WanNetworkError {
  return error instanceof WanNetworkError && !error.mayHaveReachedService && error.retryable;
}

const SAVE_ATTEMPTS = 5;
const MAX_LOOKUP_CANDIDATES = 20;
const JOB_BACKOFF_MS = 15_000;
/** A result link refused this long before its documented expiry is a glitch to retry, not an expiry. */
const EXPIRY_MARGIN_MS = 10 * 60 * 1000;
const QUERIES_PER_SECOND = 10; // half the account's 20, leaving room for other windows and tools
const WARN_BEFORE_EXPIRY_MS = 60 * 60 * 1000;
/** The learned schedule's history is read again after this, so new endings teach it. */
const PREDICTOR_TTL_MS = 30_000;
/** A download's temporary file untouched this long, and no task's to resume, is left over from a killed run. */
const STALE_PART_MS = 10 * 60 * 1000;

export class TaskEngine {
  private readonly store: TaskStore;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly limits: AccountLimits;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly stopper = new AbortController();
  private queryTimes: number[] = [];
  private predictor: { at: number; predictor: EndPredictor } | undefined;
  private readonly jobBackoff = new Map<string, number>();
  /** Lookups of interrupted creates run one at a time, so two never claim the same task. */
  private lookups: Promise<void> = Promise.resolve();
  /** Endpoints nothing answers at (by URL), with their failures in a row and the requests waiting for them. */
  private readonly outages = new Map<string, { failures: number; waiting: Set<string> }>();
  /** Downloads need no key: they use a connection of their own, whatever the endpoint setting says now. */
  private readonly downloads: Dispatcher = createDispatcher(DEFAULT_TIMEOUTS);
  /** Steps in a row that failed because the task list could not be written: the loop backs off meanwhile. */
  private storageFailures = 0;
  /** The records beside saved videos, read once per file (a sync looks up many tasks in one folder). */
  private readonly savedVideos: SavedVideoIndex;

  constructor(
    private readonly deps: EngineDeps,
    private readonly events: EngineEvents = {},
  ) {
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.limits = deps.limits ?? WAN_I2V_LIMITS;
    this.savedVideos = new SavedVideoIndex(deps.readRecord);
    this.store.onDidRecover((recovery) => void this.recoverFromAccount(recovery));
  }

  /** After the task list was rebuilt: what neither memory nor the last good copy held comes from the account. */
  private async recoverFromAccount(recovery: StoreRecovery): Promise<void> {
    this.deps.log.warn(
      `The task list was damaged (${recovery.why}; kept as ${recovery.damagedCopy}): rebuilt ${recovery.fromMemory} records from memory and ${recovery.fromLastGood} from the last good copy; adding the account's tasks of the last 24 hours`,
    );
    // First the saved videos (of any age) from the records beside them, so the account's list finds them saved.
    const fromRecords = await this.listSavedFromRecords().catch((error: unknown) => {
      this.deps.log.warn(`Recovery: the records beside the saved videos could not be read (${explainError(error).message})`);
      return [];
    });
    let outcome: { added: TaskRecord[] } | { error: string };
    try {
      outcome = { added: await this.syncFromAccount({}) };
      this.deps.log.info(`Recovery: ${outcome.added.length} tasks added from the account`);
    } catch (error) {
      outcome = { error: explainError(error).message };
      this.deps.log.warn(`Recovery: the account's tasks could not be read (${outcome.error})`);
    }
    this.events.recovered?.(recovery, outcome, fromRecords);
    this.wake();
  }

  /** Adds the saved videos the list no longer holds, from the records beside them in every output folder. */
  private async listSavedFromRecords(): Promise<TaskRecord[]> {
    const folders = new Set([...this.store.all().flatMap((r) => (r.outputFolder ? [r.outputFolder] : [])), ...((await this.deps.outputFolders?.()) ?? [])]);
    const added: TaskRecord[] = [];
    for (const folder of folders) {
      for (const { sidecar, video } of await this.savedVideos.all(folder)) {
        if (this.store.byTaskId(sidecar.task_id)) continue;
        added.push(await this.store.add(recordOfSidecar(sidecar, video, randomUUID(), this.now())));
      }
    }
    this.deps.log.info(`Recovery: ${added.length} saved videos listed again from the records beside them`);
    return added;
  }

  /** Starts the loop; records left by a closed window are picked up on the first tick. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.removeStaleParts().catch((error: unknown) => this.deps.log.warn(`Removing left-over partial downloads failed: ${String(error)}`));
    this.wake();
  }

  /** Stops the loop, waits for work in flight to settle, and hands this window's leases back. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.stopper.abort(Object.assign(new Error('Wan Studio is shutting down'), { name: 'AbortError' }));
    await this.ticking;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.store.release().catch((e: unknown) => this.deps.log.warn(`Could not release task leases: ${String(e)}`));
    await this.downloads.close().catch(() => undefined);
  }

  /** Runs a tick soon (after a change made here or seen in another window). */
  wake(delayMs = 0): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    // While the task list cannot be written, nothing (a job ending, another window) hurries the loop.
    if (this.storageFailures) delayMs = Math.max(delayMs, this.storageBackoff());
    this.timer = setTimeout(() => void this.tick(), Math.max(0, Math.min(delayMs, 2_147_000_000)));
  }

  private storageBackoff(): number {
    return Math.min(30_000, 1000 * 2 ** (this.storageFailures - 1));
  }

  /** Tells once that the task list cannot be written, and once that it can again. */
  private storageState(error: unknown): void {
    if (error === undefined) {
      if (!this.storageFailures) return;
      this.storageFailures = 0;
      this.deps.log.info('The task list can be written again; tasks are followed again');
      this.events.storage?.(undefined);
      return;
    }
    this.storageFailures++;
    const { message } = explainError(error);
    this.deps.log.warn(`The task list cannot be written (${message}); trying again in ${Math.round(this.storageBackoff() / 1000)} s`);
    if (this.storageFailures === 1) this.events.storage?.(message);
  }

  /**
   * Records the request as queued (nothing is sent yet) and returns its record. Inputs are checked
   * first, so a request the service would refuse is never queued.
   */
  async submit(request: TaskRequest, where: { endpoint: EndpointRef; workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord> {
    const parsed = TaskRequestSchema.safeParse(request);
    if (!parsed.success) {
      throw new WanValidationError(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'request', message: i.message })));
    }
    // Every rule and every local file, checked without uploading anything.
    const checked = await prepareRequest(parsed.data, async () => 'oss://validation-only/placeholder');
    const now = this.now();
    const record = await this.store.add({
      id: randomUUID(),
      state: 'queued',
      request: parsed.data,
      endpoint: where.endpoint,
      workspaceFolder: where.workspaceFolder,
      outputFolder: where.outputFolder,
      requestedAt: now,
      updatedAt: now,
      outputSize: checked.outputSize,
    });
    this.wake();
    return record;
  }

  /** Adds a task that exists on the service (made by the CLI, another machine, …). */
  async adopt(taskId: string, where: { endpoint?: EndpointRef; workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord> {
    const existing = this.store.byTaskId(taskId);
    if (existing) return existing;
    const conn = await this.deps.connect(where.endpoint);
    try {
      const task = await conn.client.getTask(taskId, { signal: this.stopper.signal });
      if (task.output.task_status === 'UNKNOWN') {
        throw new WanValidationError([{ field: 'task_id', message: `the service does not know task ${taskId} (wrong region or key, or older than 24 hours)` }]);
      }
      const now = this.now();
      const record = await this.store.add({
        id: randomUUID(),
        state: 'pending',
        request: { prompt: task.output.orig_prompt },
        endpoint: conn.endpoint,
        workspaceFolder: where.workspaceFolder,
        outputFolder: where.outputFolder,
        requestedAt: parseServiceTime(task.output.submit_time)?.getTime() ?? now,
        updatedAt: now,
        sentAt: parseServiceTime(task.output.submit_time)?.getTime(),
        taskId,
        // A task that ended before it was added is reported by the command that added it, not once more each.
        announced: task.output.task_status === 'FAILED' || task.output.task_status === 'CANCELED',
      });
      await this.applyTask(record.id, task);
      if (this.store.get(record.id)?.state === 'succeeded') await this.takeSavedVideo(record.id);
      this.wake();
      return this.store.get(record.id) ?? record;
    } finally {
      await conn.client.close();
    }
  }

  /** Adds the account's tasks of this model from the last 24 hours that the list does not hold yet. */
  async syncFromAccount(where: { workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord[]> {
    const conn = await this.deps.connect();
    let listed: ListedTask[];
    try {
      const to = new Date(this.now() + 60_000);
      listed = await this.listCreated(conn.client, new Date(to.getTime() - 24 * 3600_000), to);
    } finally {
      await conn.client.close();
    }
    // A task made around the time of an interrupted create may be that create's: its lookup decides.
    const interrupted = this.store.all().filter((r) => (r.state === 'creating' || r.state === 'unresolved') && r.sentAt !== undefined);
    const window = this.deps.lookupWindowMs ?? 120_000;
    const nearInterrupted = (t: ListedTask) =>
      t.createdAt === undefined
        ? interrupted.length > 0
        : interrupted.some((r) => t.createdAt! >= r.sentAt! - 60_000 && t.createdAt! <= r.sentAt! + window + 60_000);
    const added: TaskRecord[] = [];
    for (const t of listed) {
      if (this.store.byTaskId(t.taskId) || nearInterrupted(t)) continue;
      added.push(await this.adopt(t.taskId, { endpoint: conn.endpoint, ...where }));
    }
    return added;
  }

  /** Cancels a locally queued request, or asks the service to cancel a PENDING task. */
  async cancel(id: string): Promise<TaskRecord | undefined> {
    const r = this.store.get(id);
    if (!r) return undefined;
    if (r.state === 'queued' || r.state === 'unresolved') {
      return this.store.patch(id, (t) => {
        if (t.state === 'queued' || t.state === 'unresolved') {
          t.state = 'canceled';
          t.message = 'canceled before it was sent';
        }
      });
    }
    if (r.state !== 'pending' || !r.taskId) {
      throw new WanValidationError([{ field: 'task', message: `only a queued or PENDING task can be canceled; this one is ${r.state}` }]);
    }
    const conn = await this.deps.connect(r.endpoint);
    try {
      await conn.client.cancelTask(r.taskId);
      const task = await conn.client.getTask(r.taskId);
      await this.applyTask(id, task);
    } finally {
      await conn.client.close();
    }
    this.wake();
    return this.store.get(id);
  }

  /**
   * Requests waiting for an unreachable endpoint go now: the endpoint setting changed, or the user asked
   * to retry. The backoff starts over, and a new failure is announced again.
   */
  async retryWaiting(): Promise<void> {
    const ids = new Set([...this.outages.values()].flatMap((o) => [...o.waiting]));
    this.outages.clear();
    if (ids.size) {
      await this.store.update((tasks) => {
        for (const t of tasks) if (ids.has(t.id) && t.state === 'queued') t.notBefore = undefined;
      });
    }
    this.wake();
  }

  /** Cancels the requests (never sent) still waiting for the endpoint at `url`. */
  async cancelWaiting(url: string): Promise<number> {
    const ids = this.outages.get(url)?.waiting ?? new Set<string>();
    let canceled = 0;
    for (const id of ids) if (this.store.get(id)?.state === 'queued' && (await this.cancel(id))?.state === 'canceled') canceled++;
    return canceled;
  }

  /** Tries the save again (a failed download, or one waiting for a folder). */
  async retrySave(id: string): Promise<void> {
    await this.store.patch(id, (t) => {
      if (t.state === 'succeeded' && t.save && t.save.state !== 'saved') {
        t.save = { state: 'waiting', attempts: 0 };
        t.announced = false; // the user asked: the outcome is told again
      }
    });
    this.wake();
  }

  /** An unresolved create: look it up in the service's task list again. */
  async lookAgain(id: string): Promise<void> {
    await this.store.patch(id, (t) => {
      if (t.state === 'unresolved') {
        t.state = 'creating';
        t.nextPollAt = undefined;
        t.message = undefined;
      }
    });
    this.wake();
  }

  /** An unresolved create: the user decided it was never made; queue it again (a new paid task). */
  async createAgain(id: string): Promise<void> {
    await this.store.patch(id, (t) => {
      if (t.state === 'unresolved' && !t.taskId) {
        t.state = 'queued';
        t.sentAt = undefined;
        t.notBefore = undefined;
        t.message = undefined;
        t.lookup = undefined;
      }
    });
    this.wake();
  }

  /** Forgets records that need no more work (it never cancels anything on the service). */
  async remove(ids: readonly string[]): Promise<number> {
    const drop = new Set(ids);
    // Decided on the freshest records, under the lock: another window may have just sent one.
    return this.store.update((tasks) => {
      const busy = tasks.some((t) => drop.has(t.id) && (t.state === 'creating' || t.state === 'pending' || t.state === 'running'));
      if (busy) throw new WanValidationError([{ field: 'task', message: 'a task that is being created or is running cannot be removed from the list; cancel it or wait for it to end' }]);
      const kept = tasks.filter((t) => !drop.has(t.id));
      const removed = tasks.length - kept.length;
      tasks.splice(0, tasks.length, ...kept);
      return removed;
    });
  }

  /** Removes every finished task: saved, failed, canceled, unknown or expired. */
  clearFinished(): Promise<number> {
    return this.store.remove(this.store.all().filter((r) => !needsWork(r) && r.state !== 'unresolved').map((r) => r.id));
  }

  // ---- the loop ----

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    this.ticking = this.step().then(
      () => this.storageState(undefined),
      (error: unknown) => {
        if (isStorageError(error) || error instanceof WanLocalFileError) this.storageState(error);
        else this.deps.log.error(`Task loop: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      },
    );
    await this.ticking;
    this.ticking = undefined;
    if (!this.running) return;
    const next = this.storageFailures ? this.storageBackoff() : this.again ? 0 : this.nextWake();
    this.again = false;
    this.wake(next);
  }

  private async step(): Promise<void> {
    await this.store.refresh();
    const held = new Set(await this.store.claim(needsWork));
    const now = this.now();
    const mine = this.store.all().filter((r) => held.has(r.id) && !this.inFlight.has(r.id));

    for (const r of admit(this.store.all(), now, this.limits).start) {
      if (held.has(r.id) && !this.inFlight.has(r.id) && !this.backingOff(r.id, now)) this.launch(r.id, () => this.create(r.id));
    }
    for (const r of mine) {
      if (this.inFlight.has(r.id) || this.backingOff(r.id, now)) continue;
      if (r.state === 'creating' && (r.nextPollAt ?? 0) <= now) this.launch(r.id, () => this.lookUpInTurn(r.id));
      else if ((r.state === 'pending' || r.state === 'running') && (r.nextPollAt ?? 0) <= now && this.takeQuery(now)) {
        this.launch(r.id, () => this.poll(r.id));
      } else if (r.state === 'succeeded') {
        this.maybeWarnExpiry(r, now);
        if ((r.save?.state === 'waiting' || r.save?.state === 'saving') && (r.save.notBefore ?? 0) <= now) this.launch(r.id, () => this.save(r.id));
        else if (r.save?.state === 'saved' && r.save.pendingRecord && (r.save.notBefore ?? 0) <= now) this.launch(r.id, async () => void (await this.writeRecord(r.id)));
      }
    }
  }

  /** At most QUERIES_PER_SECOND polls start in any second. */
  private takeQuery(now: number): boolean {
    this.queryTimes = this.queryTimes.filter((t) => t > now - 1000);
    if (this.queryTimes.length >= QUERIES_PER_SECOND) return false;
    this.queryTimes.push(now);
    return true;
  }

  private nextWake(): number {
    const now = this.now();
    let at = now + this.store.leaseMs / 4; // renew leases (at half their life), and notice other windows' changes
    for (const r of this.store.all()) {
      if (!this.store.holds(r) || this.inFlight.has(r.id)) continue;
      const due =
        r.state === 'queued'
          ? r.notBefore
          : r.state === 'creating' || r.state === 'pending' || r.state === 'running'
            ? (r.nextPollAt ?? now)
            : r.state === 'succeeded' && (r.save?.state === 'waiting' || r.save?.state === 'saving' || r.save?.pendingRecord)
              ? (r.save.notBefore ?? now)
              : undefined;
      if (due !== undefined) at = Math.min(at, due);
    }
    const wakeAt = admit(this.store.all(), now, this.limits).wakeAt;
    if (wakeAt !== undefined) at = Math.min(at, wakeAt);
    for (const until of this.jobBackoff.values()) if (until > now) at = Math.min(at, until);
    return Math.max(50, at - now);
  }

  /** A job that failed unexpectedly waits a while before it runs again, so a bug can never spin. */
  private backingOff(id: string, now: number): boolean {
    const until = this.jobBackoff.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.jobBackoff.delete(id);
    return false;
  }

  private launch(id: string, job: () => Promise<void>): void {
    const p = job()
      .catch((error: unknown) => {
        this.jobBackoff.set(id, this.now() + JOB_BACKOFF_MS);
        // The list could not be written: the loop reports that once; the job is simply tried again.
        if (isStorageError(error)) this.deps.log.warn(`Task ${id}: the task list could not be written (${explainError(error).message})`);
        else this.deps.log.error(`Task ${id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      })
      .finally(() => {
        this.inFlight.delete(id);
        this.wake();
      });
    this.inFlight.set(id, p);
  }

  /** The schedule's next delay for a task of this age; after failures, the outage backoff. */
  private pollDelay(t: TaskRecord, failures: number, retryAfterMs?: number): number {
    const since = parseServiceTime(t.submitTime)?.getTime() ?? t.sentAt ?? t.requestedAt;
    const state = { polls: t.polls, taskAgeMs: Math.max(0, this.now() - since), failures, retryAfterMs };
    return nextPollDelay(state, this.random, this.deps.schedule ?? this.learnedSchedule(t));
  }

  /** The schedule learned from the store's finished tasks (every window's: the store is shared); adaptive when it knows nothing. */
  private learnedSchedule(t: TaskRecord): PollSchedule {
    const now = this.now();
    const all = this.store.all();
    if (!this.predictor || now - this.predictor.at > PREDICTOR_TTL_MS) this.predictor = { at: now, predictor: new EndPredictor(historyOfRecords(all)) };
    const polled = all.filter((r) => r.state === 'pending' || r.state === 'running').length;
    return recordSchedule(this.predictor.predictor, t, polled);
  }

  /** Tasks of this model the account created between two instants, from the service's task list. */
  private async listCreated(client: WanClient, from: Date, to: Date): Promise<ListedTask[]> {
    const items = await findTasksCreatedBetween(client, from, to, { signal: this.stopper.signal });
    return items.map((i) => ({ taskId: i.task_id, status: i.status, createdAt: taskCreatedAt(i)?.getTime() }));
  }

  // ---- the jobs ----

  private async create(id: string): Promise<void> {
    const record = this.store.get(id);
    if (!record || record.state !== 'queued') return;
    let conn: EngineConnection;
    try {
      // Never sent, so it belongs to no endpoint yet: it goes where the settings say now.
      conn = await this.deps.connect();
    } catch (error) {
      await this.fail(id, error);
      return;
    }
    try {
      let prepared;
      try {
        prepared = await prepareRequest(record.request, async (path, media) => {
          // Shown while the request waits: a large clip can take a while to go up.
          await this.store.patch(id, (t) => t.state === 'queued' && (t.message = `uploading ${basename(path)} (temporary upload)…`));
          return conn.client.uploadFile(path, { signal: this.stopper.signal, format: media.format });
        });
      } catch (error) {
        if (this.stopper.signal.aborted) return; // nothing was created: it stays queued for the next window
        if (isUnreachable(error)) return await this.waitForEndpoint(id, conn.endpoint, error);
        if (error instanceof WanValidationError || !(isTransient(error) || isThrottling(error))) return await this.fail(id, error);
        return await this.requeue(id, error);
      }
      // The intent: from here on the service may create the task, so the record says so first.
      const sentAt = this.now();
      const sending = await this.store.patch(id, (t) => {
        if (t.state !== 'queued') return;
        t.state = 'creating';
        t.endpoint = conn.endpoint;
        t.code = undefined;
        t.message = undefined;
        t.sentAt = sentAt;
        t.createAttempts += 1;
        t.nextPollAt = sentAt + (this.deps.lookupWindowMs ?? 120_000) / 4;
        t.outputSize = prepared.outputSize ?? t.outputSize;
      });
      if (sending?.state !== 'creating' || sending.sentAt !== sentAt) return;
      this.deps.log.info(`Task ${id}: creating (${prepared.duration} s ${prepared.resolution}, billed ${prepared.billedSeconds} s)`);
      let created: CreateTaskResponse;
      try {
        created = await conn.client.createTask(prepared.body, { signal: this.stopper.signal });
      } catch (error) {
        if (error instanceof WanAmbiguousCreateError || this.stopper.signal.aborted) {
          // It may exist: never sent again blindly; the lookup in the task list decides.
          this.deps.log.warn(`Task ${id}: the create's outcome is unknown; it will be looked up in the task list`);
          return;
        }
        if (isUnreachable(error)) return await this.waitForEndpoint(id, conn.endpoint, error);
        if (isThrottling(error) || (error instanceof WanNetworkError && !error.mayHaveReachedService)) {
          return await this.requeue(id, error);
        }
        this.outages.delete(conn.endpoint.baseUrl); // it answered
        return await this.fail(id, error);
      }
      this.outages.delete(conn.endpoint.baseUrl);
      // From here the task exists and is paid for: whatever happens, it is never called failed.
      await this.recordCreated(id, created);
    } finally {
      await conn.client.close();
    }
  }

  /**
   * Writes the new task's ID. Should the store refuse the write (a lock held too long, a file the OS keeps
   * busy), it is tried again; if it never goes through the record stays `creating`, and the lookup in the
   * task list finds the task by the prompt.
   */
  private async recordCreated(id: string, created: CreateTaskResponse): Promise<void> {
    const taskId = created.output.task_id;
    const status = created.output.task_status;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.patch(id, (t) => {
          if (t.taskId && t.taskId !== taskId) {
            this.deps.log.error(`Task ${id}: created ${taskId}, but the record already follows ${t.taskId}; add ${taskId} by ID to follow it too`);
            return;
          }
          t.taskId = taskId;
          t.requestId = created.request_id;
          t.code = undefined;
          t.message = undefined;
          // A first answer other than PENDING/RUNNING is read by the next poll, which sets everything it implies.
          const known = status === 'PENDING' || status === 'RUNNING';
          t.state = known ? stateOfStatus(status) : 'pending';
          t.serviceStatus = known ? status : undefined;
          t.polls = 0;
          t.nextPollAt = known ? this.now() + this.pollDelay(t, 0) : this.now();
        });
        this.deps.log.info(`Task ${id}: created ${taskId}`);
        return;
      } catch (error) {
        this.deps.log.error(`Task ${id}: created ${taskId} but could not record it (${String(error)}); attempt ${attempt}`);
        if (attempt >= 5) return;
        await sleep(1000 * attempt);
      }
    }
  }

  private async requeue(id: string, error: unknown): Promise<void> {
    const retryAfter = error instanceof WanApiError ? error.retryAfterMs : undefined;
    await this.store.patch(id, (t) => {
      // The user may have canceled it meanwhile; then it stays canceled.
      if (t.state !== 'queued' && t.state !== 'creating') return;
      t.state = 'queued';
      t.sentAt = undefined;
      t.notBefore = this.now() + throttleDelay(t.createAttempts + 1, retryAfter, this.random);
      t.code = explainError(error).code;
      t.message = explainError(error).message;
    });
    this.deps.log.warn(`Task ${id}: back in the queue (${explainError(error).message})`);
  }

  /**
   * Nothing answered, so nothing was sent: the request waits in the queue, trying again with a growing
   * delay. The first failure of an outage is announced (with the URL); later ones only reschedule.
   */
  private async waitForEndpoint(id: string, endpoint: EndpointRef, error: WanNetworkError): Promise<void> {
    const url = error.url ?? endpoint.baseUrl;
    const outage = this.outages.get(url) ?? { failures: 0, waiting: new Set<string>() };
    this.outages.set(url, outage);
    outage.failures += 1;
    outage.waiting.add(id);
    const { code, message } = explainError(error);
    const r = await this.store.patch(id, (t) => {
      if (t.state !== 'queued' && t.state !== 'creating') return;
      t.state = 'queued';
      t.sentAt = undefined;
      t.notBefore = this.now() + outageDelay(outage.failures, this.random);
      t.code = code;
      t.message = message;
    });
    this.deps.log.warn(`Task ${id}: nothing answers at ${url} (${message}); waiting ${Math.round(((r?.notBefore ?? 0) - this.now()) / 1000)} s`);
    if (outage.failures === 1 && r?.state === 'queued') {
      this.events.unreachable?.({ url, endpoint, reason: message, waiting: [...outage.waiting] });
    }
  }

  private async fail(id: string, error: unknown): Promise<void> {
    const { code, message } = explainError(error);
    const r = await this.store.patch(id, (t) => {
      if (t.state !== 'queued' && t.state !== 'creating') return;
      t.state = 'failed';
      t.code = code;
      t.message = message;
    });
    this.deps.log.warn(`Task ${id}: refused before a task was made: ${message}`);
    if (r) await this.announce(r);
  }

  private lookUpInTurn(id: string): Promise<void> {
    const turn = this.lookups.then(() => this.lookUp(id));
    this.lookups = turn.catch(() => undefined);
    return turn;
  }

  /** An interrupted create: find the task it may have made in the service's list, never re-send it. */
  private async lookUp(id: string): Promise<void> {
    const r = this.store.get(id);
    if (!r || r.state !== 'creating' || r.sentAt === undefined) return;
    const window = this.deps.lookupWindowMs ?? 120_000;
    let conn: EngineConnection;
    try {
      conn = await this.deps.connect(r.endpoint);
    } catch (error) {
      this.deps.log.warn(`Task ${id}: cannot look up the interrupted create now (${explainError(error).message}); trying again`);
      await this.store.patch(id, (t) => (t.nextPollAt = this.now() + 15_000));
      return;
    }
    try {
      let listed: ListedTask[];
      const from = r.sentAt - 60_000;
      const to = Math.max(this.now(), r.sentAt + window) + 60_000;
      try {
        listed = await this.listCreated(conn.client, new Date(from), new Date(to));
      } catch (error) {
        this.deps.log.warn(`Task ${id}: looking up the interrupted create failed (${explainError(error).message}); trying again`);
        await this.store.patch(id, (t) => (t.nextPollAt = this.now() + 15_000));
        return;
      }
      const known = new Set(this.store.all().map((t) => t.taskId).filter(Boolean));
      const candidates = listed.filter((t) => !known.has(t.taskId));
      candidates.sort((a, b) => Math.abs((a.createdAt ?? 0) - r.sentAt!) - Math.abs((b.createdAt ?? 0) - r.sentAt!));
      let checked: CandidateTask[];
      try {
        checked = await checkCandidates(conn.client, candidates, { max: MAX_LOOKUP_CANDIDATES, signal: this.stopper.signal });
      } catch (error) {
        this.deps.log.warn(`Task ${id}: checking the task list's candidates failed (${explainError(error).message}); trying again`);
        await this.store.patch(id, (t) => (t.nextPollAt = this.now() + 15_000));
        return;
      }
      // Other creates of this account whose outcome is unknown may own a candidate too.
      const rivals = this.store
        .all()
        .filter((t) => t.id !== id && !t.taskId && t.sentAt !== undefined && (t.state === 'creating' || t.state === 'unresolved') && t.endpoint.kind === r.endpoint.kind)
        .map(lostCreateOf);
      const decision = decideMatch({ create: lostCreateOf(r), rivals, candidates: checked, now: this.now(), windowMs: window });
      const lookup = { from, to, seen: checked.map((c) => ({ taskId: c.taskId, status: c.status })), fitting: decision.kind === 'adopt' ? [decision.taskId] : decision.fitting };
      const waiting = (t: TaskRecord) => t.state === 'creating' && !t.taskId;
      if (decision.kind === 'adopt') {
        const taskId = decision.taskId;
        const adopted = await this.store.update((tasks) => {
          const t = tasks.find((x) => x.id === id);
          // Under the lock: the record still waits, and no other record took this task meanwhile.
          if (!t || !waiting(t) || tasks.some((x) => x.taskId === taskId)) return false;
          t.taskId = taskId;
          t.state = 'pending';
          t.nextPollAt = this.now();
          t.message = undefined;
          t.lookup = lookup;
          t.updatedAt = this.now();
          return true;
        });
        if (adopted) this.deps.log.info(`Task ${id}: the interrupted create made ${taskId}; following it`);
        else await this.store.patch(id, (t) => waiting(t) && (t.nextPollAt = this.now() + 1000)); // taken meanwhile: look again, past it
        return;
      }
      if (decision.kind === 'wait') {
        // Looked at again soon: a task that ends now says its prompt.
        await this.store.patch(id, (t) => {
          if (!waiting(t)) return;
          t.lookup = lookup;
          t.nextPollAt = this.now() + Math.min(15_000, window / 4);
        });
        this.deps.log.info(`Task ${id}: interrupted create not matched yet (${decision.reason}: ${decision.open.length} task(s) of its window not ended, ${decision.fitting.length} fitting); looking again`);
        return;
      }
      const unresolved = await this.store.patch(id, (t) => {
        if (!waiting(t)) return;
        t.state = 'unresolved';
        t.lookup = lookup;
        t.message =
          decision.fitting.length > 0
            ? `the create was interrupted and ${decision.fitting.length} tasks fit it equally (${decision.fitting.join(', ')}): add the right one by its ID rather than creating it again`
            : 'the create was interrupted and no ended task of its time window has its prompt: it may not have been created';
      });
      if (unresolved?.state === 'unresolved') {
        this.deps.log.warn(`Task ${id}: interrupted create not resolved from the task list (${unresolved.message}); the user decides`);
        this.events.unresolved?.(unresolved);
      }
    } finally {
      await conn.client.close();
    }
  }

  private async poll(id: string): Promise<void> {
    const r = this.store.get(id);
    if (!r?.taskId) return;
    let conn: EngineConnection;
    try {
      conn = await this.deps.connect(r.endpoint);
    } catch (error) {
      await this.pollFailed(id, error);
      return;
    }
    try {
      const task = await conn.client.getTask(r.taskId, { signal: this.stopper.signal });
      await this.applyTask(id, task);
    } catch (error) {
      if (!this.stopper.signal.aborted) await this.pollFailed(id, error);
    } finally {
      await conn.client.close();
    }
  }

  /** The task exists and is paid for: every failure to reach it is waited out, until it would expire. */
  private async pollFailed(id: string, error: unknown): Promise<void> {
    const retryAfter = error instanceof WanApiError ? error.retryAfterMs : undefined;
    const r = await this.store.patch(id, (t) => {
      t.pollFailures += 1;
      t.nextPollAt = this.now() + this.pollDelay(t, t.pollFailures, retryAfter);
      t.message = `last check failed: ${explainError(error).message}`;
      const at = expiresAt(t);
      if (at !== undefined && this.now() > at) {
        t.state = 'unknown';
        t.message = 'the task could not be reached before the service forgot it (24 hours)';
      }
    });
    this.deps.log.warn(`Task ${id}: poll failed (${explainError(error).message}); next try in ${Math.round(((r?.nextPollAt ?? 0) - this.now()) / 1000)} s`);
    if (r?.state === 'unknown') await this.announce(r);
  }

  /** Copies a task answer into the record and moves it on (a success starts its save). */
  private async applyTask(id: string, task: TaskResponse): Promise<void> {
    const o = task.output;
    const r = await this.store.patch(id, (t) => {
      t.serviceStatus = o.task_status;
      t.state = stateOfStatus(o.task_status);
      t.submitTime = o.submit_time ?? t.submitTime;
      t.scheduledTime = o.scheduled_time ?? t.scheduledTime;
      t.endTime = o.end_time ?? t.endTime;
      t.origPrompt = o.orig_prompt ?? t.origPrompt;
      // A task added by its ID: its prompt is known once the service echoes it, which is on success.
      if (t.request.prompt === undefined && t.createAttempts === 0) t.request.prompt = o.orig_prompt;
      t.requestId = t.requestId ?? task.request_id;
      t.usage = task.usage ?? t.usage;
      t.polls += 1;
      t.pollFailures = 0;
      t.message = undefined;
      if (o.task_status === 'SUCCEEDED') {
        t.videoUrl = o.video_url;
        t.save ??= { state: 'waiting', attempts: 0 };
      } else if (o.task_status === 'FAILED') {
        t.code = o.code;
        t.message = o.message;
      } else if (o.task_status === 'UNKNOWN') {
        t.message = 'the service does not know this task (it never existed here, or it is older than 24 hours)';
      }
      t.nextPollAt = this.now() + this.pollDelay(t, 0);
    });
    if (r && (r.state === 'failed' || r.state === 'canceled' || r.state === 'unknown')) await this.announce(r);
  }

  private async save(id: string): Promise<void> {
    const r = this.store.get(id);
    if (!r?.videoUrl || !r.taskId || r.state !== 'succeeded' || r.save?.state === 'saved') return;
    // No verdict from the clock alone: ours and the service's may disagree, so the link is always tried.
    const at = expiresAt(r);
    const folder = r.outputFolder ?? (await this.deps.outputFolderFor?.(r));
    if (!folder) {
      await this.store.patch(id, (t) => (t.save = { state: 'failed', attempts: t.save?.attempts ?? 0, error: 'no folder to save the video in: open a workspace folder or set wanStudio.outputFolder, then retry' }));
      return;
    }
    await this.store.patch(id, (t) => {
      t.outputFolder = folder;
      t.save = { state: 'saving', attempts: (t.save?.attempts ?? 0) + 1 };
    });
    try {
      await mkdir(folder, { recursive: true });
      // Saved before (a record lost with the task list, a cleared list synced again): never a second copy.
      if (await this.takeSavedVideo(id, false)) return;
      const base = this.videoBase(r);
      const paths = await freeVideoPath(folder, base);
      const { bytes } = await downloadFile(r.videoUrl, paths.video, {
        dispatcher: this.downloads,
        retry: DEFAULT_RETRY,
        signal: this.stopper.signal,
        part: join(folder, `.${base}.part`),
        // A fragmented MP4 cut between fragments looks whole: its length must be the task's.
        expectedSeconds: expectedVideoSeconds(r.usage),
      });
      // The video is in place: the task is saved, whatever happens to the record beside it.
      await this.store.patch(id, (t) => (t.save = { state: 'saved', file: paths.video, bytes, attempts: t.save?.attempts ?? 1, pendingRecord: { attempts: 0 } }));
      this.deps.log.info(`Task ${id}: saved ${paths.video} (${bytes} bytes)`);
      const done = await this.writeRecord(id);
      if (done) await this.announce(done);
    } catch (error) {
      if (this.stopper.signal.aborted) {
        await this.store.patch(id, (t) => t.save?.state !== 'saved' && (t.save = { state: 'waiting', attempts: t.save?.attempts ?? 0 }));
        return;
      }
      const linkRefused = error instanceof WanApiError && error.code === 'VideoUrlExpired';
      // The link's answer decides, read with the clock: refused near or past its documented end, it has
      // expired; refused long before, it is more likely a glitch of the storage host, tried again.
      const expired = linkRefused && (at === undefined || this.now() >= at - EXPIRY_MARGIN_MS);
      const retryable = isTransient(error) || (linkRefused && !expired);
      const message = linkRefused && !expired ? `the storage host refused the result link (HTTP ${error.httpStatus}) long before it expires` : explainError(error).message;
      const s = await this.store.patch(id, (t) => {
        if (t.save?.state === 'saved') return;
        const attempts = t.save?.attempts ?? 1;
        const again = !expired && attempts < SAVE_ATTEMPTS && retryable;
        t.save = {
          state: expired ? 'expired' : again ? 'waiting' : 'failed',
          attempts,
          error: expired ? 'the result link expired (24 hours) before the video was saved' : message,
          notBefore: again ? this.now() + Math.min(120_000, 2000 * 2 ** (attempts - 1)) : undefined,
        };
      });
      this.deps.log.warn(`Task ${id}: saving the video failed (${message})`);
      if (s && s.save?.state !== 'waiting' && s.save?.state !== 'saved') await this.announce(s);
    }
  }

  /** The base of the task's video file name (the same on every attempt, so its partial download is found again). */
  private videoBase(r: TaskRecord): string {
    return videoBaseName({
      date: parseServiceTime(r.endTime) ?? new Date(r.requestedAt),
      prompt: r.request.prompt,
      fallback: basename(r.request.firstFrame ?? r.request.firstClip ?? ''),
      taskId: r.taskId ?? r.id,
    });
  }

  /**
   * A succeeded task whose video is already in its folder (known by task ID from the record beside it, or by
   * its name) is listed as saved without a download or an announcement. True when it was.
   */
  private async takeSavedVideo(id: string, resolveFolder = true): Promise<boolean> {
    const r = this.store.get(id);
    if (!r?.taskId || r.state !== 'succeeded' || r.save?.state === 'saved') return false;
    const folder = r.outputFolder ?? (resolveFolder ? await this.deps.outputFolderFor?.(r) : undefined);
    if (!folder) return false;
    const found = await this.savedVideos.videoOf(folder, r.taskId, this.videoBase(r));
    if (!found) return false;
    const taken = await this.store.patch(id, (t) => {
      if (t.save?.state === 'saved') return;
      t.outputFolder = folder;
      t.save = { state: 'saved', file: found.file, bytes: found.bytes, attempts: t.save?.attempts ?? 0, ...(found.hasRecord ? {} : { pendingRecord: { attempts: 0 } }) };
      t.announced = true;
    });
    this.deps.log.info(`Task ${id}: its video was already saved as ${found.file}; not downloaded again`);
    if (taken?.save?.pendingRecord) await this.writeRecord(id);
    return true;
  }

  /**
   * Writes the record beside a saved video. A failure (a full disk) leaves the video saved and tries only
   * the record again later. Returns the task as it now stands.
   */
  private async writeRecord(id: string): Promise<TaskRecord | undefined> {
    const r = this.store.get(id);
    if (!r?.save?.file || r.save.state !== 'saved' || !r.save.pendingRecord) return r;
    const { file, bytes = 0 } = r.save;
    try {
      await (this.deps.writeRecord ?? writeSidecar)(sidecarPathOf(file), sidecarFor(r, file, bytes));
      this.deps.log.info(`Task ${id}: wrote its record ${sidecarPathOf(file)}`);
      return await this.store.patch(id, (t) => {
        if (t.save) t.save = { ...t.save, pendingRecord: undefined, notBefore: undefined };
      });
    } catch (error) {
      const { message } = explainError(error);
      this.deps.log.warn(`Task ${id}: the video is saved, but its record ${sidecarPathOf(file)} could not be written (${message}); trying again`);
      return await this.store.patch(id, (t) => {
        if (!t.save?.pendingRecord) return;
        const attempts = t.save.pendingRecord.attempts + 1;
        t.save.pendingRecord = { attempts, error: message };
        t.save.notBefore = this.now() + Math.min(300_000, 5000 * 2 ** (attempts - 1));
      });
    }
  }

  /**
   * Temporary files of downloads killed with their window: the ones a task can resume are kept, the others
   * (untouched for a while, so no other run is writing them) removed.
   */
  private async removeStaleParts(): Promise<void> {
    const resumable = new Set<string>();
    const folders = new Set<string>();
    for (const r of this.store.all()) {
      if (!r.outputFolder) continue;
      folders.add(r.outputFolder);
      if (r.state === 'succeeded' && r.taskId && r.save?.state !== 'saved' && r.save?.state !== 'expired') resumable.add(join(r.outputFolder, `.${this.videoBase(r)}.part`));
    }
    for (const folder of folders) {
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        const path = join(folder, name);
        if (!name.startsWith('.') || !name.endsWith('.part') || resumable.has(path)) continue;
        const age = await stat(path).then((st) => Date.now() - st.mtimeMs, () => 0);
        if (age < STALE_PART_MS) continue;
        await rm(path, { force: true });
        this.deps.log.info(`Removed a partial download left by a closed window: ${path}`);
      }
    }
  }

  private maybeWarnExpiry(r: TaskRecord, now: number): void {
    const at = expiresAt(r);
    // Only a save that stopped needs the user: one still being tried reports its own outcome.
    if (r.save?.state !== 'failed' || at === undefined || at - now > WARN_BEFORE_EXPIRY_MS) return;
    if (r.expiryWarned) return;
    void this.store
      .patch(r.id, (t) => (t.expiryWarned = true))
      .then((t) => t && this.events.expiring?.(t))
      .catch((error: unknown) => this.deps.log.warn(`Task ${r.id}: the expiry warning failed: ${String(error)}`));
  }

  /** Tells the user once, from the one window that holds the task. */
  private async announce(r: TaskRecord): Promise<void> {
    if (r.announced) return;
    const marked = await this.store.patch(r.id, (t) => (t.announced = true));
    if (marked) this.events.ended?.(marked);
  }
}

/** A record's create as the matching sees it. */
function lostCreateOf(r: TaskRecord): LostCreate {
  return { key: r.id, prompt: r.request.prompt, duration: r.request.duration, resolution: r.request.resolution, sentAt: r.sentAt ?? r.requestedAt };
}
