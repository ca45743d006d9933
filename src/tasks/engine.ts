// The task engine: owns every task from the user's request until its video is saved. One timer drives
// the queue, the polls, the lookups of interrupted creates and the downloads of every task this window
// leases. Nothing else talks to the service for a task. No vscode import: the extension wires it.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  WanApiError,
  WanLocalFileError,
  WanValidationError,
  isLocalFileErrorCode,
  expectedVideoSeconds,
  DEFAULT_RETRY,
  explainError,
  isTransient,
  prepareRequest,
} from '../wan';
import type { Dispatcher } from 'undici';
import { downloadFile } from '../wan/download';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../wan/http';
import { parseServiceTime } from '../wan/time';
import { freeVideoPath, videoBaseName } from './naming';
import { WAN_I2V_LIMITS, admit, type AccountLimits } from './queue';
import {
  TaskRequestSchema,
  expiresAt,
  needsWork,
  type EndpointRef,
  type TaskRecord,
  type TaskRequest,
} from './record';
import { savedVideoOf, sidecarFor, sidecarPathOf, writeSidecar } from './sidecar';
import type { StoreRecovery, TaskStore } from './store';
import {
  EXPIRY_MARGIN_MS,
  JOB_BACKOFF_MS,
  LIST_SLACK_MS,
  QUERIES_PER_SECOND,
  SAVE_ATTEMPTS,
  SERVICE_MEMORY_MS,
  STALE_PART_MS,
  WARN_BEFORE_EXPIRY_MS,
  lookupWindow,
} from './engine/constants';
import { withConnection, type EngineConnection } from './engine/connection';
import { announce, type JobContext } from './engine/context';
import { runCreate } from './engine/create';
import { Lookups, listCreated } from './engine/lookup';
import { PollDelays, applyTask, runPoll } from './engine/poll';
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
      if (this.store.get(record.id)?.state === 'succeeded') await this.takeSavedVideo(record.id);
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

  // ---- the jobs ----



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
    const found = await savedVideoOf(folder, r.taskId, this.videoBase(r));
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
}
