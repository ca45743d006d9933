// The task engine: owns every task from the user's request until its video is saved. One timer drives
// the queue, the polls, the lookups of interrupted creates and the downloads of every task this window
// leases. Nothing else talks to the service for a task. No vscode import: the extension wires it.
import { randomUUID } from 'node:crypto';
import {
  WanLocalFileError,
  WanValidationError,
  isLocalFileErrorCode,
  explainError,
  prepareRequest,
} from '../wan';
import type { Dispatcher } from 'undici';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../wan/http';
import { parseServiceTime } from '../wan/time';
import { WAN_I2V_LIMITS, admit, type AccountLimits } from './queue';
import {
  TaskRequestSchema,
  needsWork,
  type EndpointRef,
  type TaskRecord,
  type TaskRequest,
} from './record';
import type { StoreRecovery, TaskStore } from './store';
import {
  JOB_BACKOFF_MS,
  LIST_SLACK_MS,
  QUERIES_PER_SECOND,
  SERVICE_MEMORY_MS,
  lookupWindow,
} from './engine/constants';
import { withConnection, type EngineConnection } from './engine/connection';
import { announce, type JobContext } from './engine/context';
import { runCreate } from './engine/create';
import { Lookups, listCreated } from './engine/lookup';
import { PollDelays, applyTask, runPoll } from './engine/poll';
import { removeStaleParts, runSave, takeSavedVideo, warnIfExpiring, writeRecord } from './engine/save';
import { Outages } from './engine/outages';

import type { EngineDeps, EngineEvents, ListedTask } from './engine/types';
export type { EngineConnection, EngineDeps, EngineEvents, EngineLog, ListedTask, Outage } from './engine/types';

/** A refusal of the local file system (read-only, full, a file in the way), not a bug or the network. */
function isStorageError(error: unknown): boolean {
  return isLocalFileErrorCode((error as NodeJS.ErrnoException | undefined)?.code);
}

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
  private readonly jobBackoff = new Map<string, number>();
  private readonly lookups: Lookups;
  /** Endpoints nothing answers at (by URL), with their failures in a row and the requests waiting for them. */
  private readonly outages = new Outages();
  /** What the jobs see of the engine. */
  private readonly ctx: JobContext;
  /** Downloads need no key: they use a connection of their own, whatever the endpoint setting says now. */
  private readonly downloads: Dispatcher = createDispatcher(DEFAULT_TIMEOUTS);
  /** Steps in a row that failed because the task list could not be written: the loop backs off meanwhile. */
  private storageFailures = 0;

  constructor(
    private readonly deps: EngineDeps,
    private readonly events: EngineEvents = {},
  ) {
    this.store = deps.store;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.limits = deps.limits ?? WAN_I2V_LIMITS;
    const delays = new PollDelays(this.store, deps, this.now, this.random);
    this.ctx = {
      store: this.store,
      deps,
      events,
      signal: this.stopper.signal,
      now: this.now,
      random: this.random,
      withConnection: (endpoint, fn, onConnectFailed) => this.withConnection(endpoint, fn, onConnectFailed),
      pollDelay: (t, failures, retryAfterMs) => delays.delay(t, failures, retryAfterMs),
    };
    this.lookups = new Lookups(this.ctx);
    this.store.onDidRecover((recovery) => void this.recoverFromAccount(recovery));
  }

  private withConnection<T>(endpoint: EndpointRef | undefined, fn: (conn: EngineConnection) => Promise<T>, onConnectFailed?: (error: unknown) => Promise<T>): Promise<T> {
    return withConnection((e) => this.deps.connect(e), endpoint, fn, onConnectFailed);
  }

  private announce(r: TaskRecord): Promise<void> {
    return announce(this.ctx, r);
  }

  /** After the task list was rebuilt: what neither memory nor the last good copy held comes from the account. */
  private async recoverFromAccount(recovery: StoreRecovery): Promise<void> {
    this.deps.log.warn(
      `The task list was damaged (${recovery.why}; kept as ${recovery.damagedCopy}): rebuilt ${recovery.fromMemory} records from memory and ${recovery.fromLastGood} from the last good copy; adding the account's tasks of the last 24 hours`,
    );
    let outcome: { added: TaskRecord[] } | { error: string };
    try {
      outcome = { added: await this.syncFromAccount({}) };
      this.deps.log.info(`Recovery: ${outcome.added.length} tasks added from the account`);
    } catch (error) {
      outcome = { error: explainError(error).message };
      this.deps.log.warn(`Recovery: the account's tasks could not be read (${outcome.error})`);
    }
    this.events.recovered?.(recovery, outcome);
    this.wake();
  }

  /** Starts the loop; records left by a closed window are picked up on the first tick. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void removeStaleParts(this.ctx).catch((error: unknown) => this.deps.log.warn(`Removing left-over partial downloads failed: ${String(error)}`));
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
    return this.withConnection(where.endpoint, async (conn) => {
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
      await applyTask(this.ctx, record.id, task);
      if (this.store.get(record.id)?.state === 'succeeded') await takeSavedVideo(this.ctx, record.id);
      this.wake();
      return this.store.get(record.id) ?? record;
    });
  }

  /** Adds the account's tasks of this model from the last 24 hours that the list does not hold yet. */
  async syncFromAccount(where: { workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord[]> {
    const to = new Date(this.now() + LIST_SLACK_MS);
    const { listed, endpoint } = await this.withConnection(undefined, async (conn) => ({
      listed: await listCreated(this.stopper.signal, conn.client, new Date(to.getTime() - SERVICE_MEMORY_MS), to),
      endpoint: conn.endpoint,
    }));
    // A task made around the time of an interrupted create may be that create's: its lookup decides.
    const interrupted = this.store.all().filter((r) => (r.state === 'creating' || r.state === 'unresolved') && r.sentAt !== undefined);
    const window = lookupWindow(this.deps.lookupWindowMs);
    const nearInterrupted = (t: ListedTask) =>
      t.createdAt === undefined
        ? interrupted.length > 0
        : interrupted.some((r) => t.createdAt! >= r.sentAt! - LIST_SLACK_MS && t.createdAt! <= r.sentAt! + window + LIST_SLACK_MS);
    const added: TaskRecord[] = [];
    for (const t of listed) {
      if (this.store.byTaskId(t.taskId) || nearInterrupted(t)) continue;
      added.push(await this.adopt(t.taskId, { endpoint, ...where }));
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
    const taskId = r.taskId;
    await this.withConnection(r.endpoint, async (conn) => {
      await conn.client.cancelTask(taskId);
      await applyTask(this.ctx, id, await conn.client.getTask(taskId));
    });
    this.wake();
    return this.store.get(id);
  }

  /**
   * Requests waiting for an unreachable endpoint go now: the endpoint setting changed, or the user asked
   * to retry. The backoff starts over, and a new failure is announced again.
   */
  async retryWaiting(): Promise<void> {
    const ids = new Set(this.outages.clear());
    if (ids.size) {
      await this.store.update((tasks) => {
        for (const t of tasks) if (ids.has(t.id) && t.state === 'queued') t.notBefore = undefined;
      });
    }
    this.wake();
  }

  /** Cancels the requests (never sent) still waiting for the endpoint at `url`. */
  async cancelWaiting(url: string): Promise<number> {
    const ids = this.outages.waitingAt(url);
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
      if (held.has(r.id) && !this.inFlight.has(r.id) && !this.backingOff(r.id, now)) this.launch(r.id, () => runCreate(this.ctx, this.outages, r.id));
    }
    for (const r of mine) {
      if (this.inFlight.has(r.id) || this.backingOff(r.id, now)) continue;
      if (r.state === 'creating' && (r.nextPollAt ?? 0) <= now) this.launch(r.id, () => this.lookups.inTurn(r.id));
      else if ((r.state === 'pending' || r.state === 'running') && (r.nextPollAt ?? 0) <= now && this.takeQuery(now)) {
        this.launch(r.id, () => runPoll(this.ctx, r.id));
      } else if (r.state === 'succeeded') {
        warnIfExpiring(this.ctx, r, now);
        if ((r.save?.state === 'waiting' || r.save?.state === 'saving') && (r.save.notBefore ?? 0) <= now) this.launch(r.id, () => runSave(this.ctx, this.downloads, r.id));
        else if (r.save?.state === 'saved' && r.save.pendingRecord && (r.save.notBefore ?? 0) <= now) this.launch(r.id, async () => void (await writeRecord(this.ctx, r.id)));
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

  // ---- the jobs ----




}
