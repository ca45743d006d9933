// The task engine: owns every task from the user's request until its video is saved. One timer drives
// the queue, the polls, the lookups of interrupted creates and the downloads of every task this window
// leases. Nothing else talks to the service for a task. No vscode import: the extension wires it.
import {
  WanLocalFileError,
  isLocalFileErrorCode,
  explainError,
} from '../wan';
import { WAN_I2V_LIMITS, admit, type AccountLimits } from './queue';
import {
  needsWork,
  type EndpointRef,
  type TaskRecord,
  type ShotLink,
  type TaskRequest,
} from './record';
import { randomUUID } from 'node:crypto';
import { SavedVideoIndex, recordOfSidecar } from './sidecar';
import type { StoreRecovery, TaskStore } from './store';
import {
  JOB_BACKOFF_MS,
  QUERIES_PER_SECOND,
} from './engine/constants';
import { withConnection, type EngineConnection } from './engine/connection';
import { announce, type JobContext } from './engine/context';
import { runCreate } from './engine/create';
import { Lookups } from './engine/lookup';
import { PollDelays, runPoll } from './engine/poll';
import { removeStaleParts, runSave, warnIfExpiring, writeRecord } from './engine/save';
import { Outages } from './engine/outages';
import * as actions from './engine/actions';

import type { EngineDeps, EngineEvents } from './engine/types';
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
      savedVideos: new SavedVideoIndex(deps.readRecord),
      wake: () => this.wake(),
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
      for (const { sidecar, video } of await this.ctx.savedVideos.all(folder)) {
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

  /** Checks a request and records it as queued (nothing is sent yet); a request the service would refuse is never queued. */
  submit(request: TaskRequest, where: { endpoint: EndpointRef; workspaceFolder?: string; outputFolder?: string; shot?: ShotLink }): Promise<TaskRecord> {
    return actions.submit(this.ctx, request, where);
  }

  /** Adds a task that exists on the service (made by the CLI, another machine, …). */
  adopt(taskId: string, where: { endpoint?: EndpointRef; workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord> {
    return actions.adopt(this.ctx, taskId, where);
  }

  /** Adds the account's tasks of this model from the last 24 hours that the list does not hold yet. */
  syncFromAccount(where: { workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord[]> {
    return actions.syncFromAccount(this.ctx, where);
  }

  /** Cancels a locally queued request, or asks the service to cancel a PENDING task. */
  cancel(id: string): Promise<TaskRecord | undefined> {
    return actions.cancel(this.ctx, id);
  }

  /** Requests waiting for an unreachable endpoint go now (the endpoint setting changed, or the user asked). */
  retryWaiting(): Promise<void> {
    return actions.retryWaiting(this.ctx, this.outages);
  }

  /** Cancels the requests (never sent) still waiting for the endpoint at `url`. */
  cancelWaiting(url: string): Promise<number> {
    return actions.cancelWaiting(this.ctx, this.outages, url);
  }

  /** Tries the save again (a failed download, or one waiting for a folder). */
  retrySave(id: string): Promise<void> {
    return actions.retrySave(this.ctx, id);
  }

  /** An unresolved create: look it up in the service's task list again. */
  lookAgain(id: string): Promise<void> {
    return actions.lookAgain(this.ctx, id);
  }

  /** An unresolved create: the user decided it was never made; queue it again (a new paid task). */
  createAgain(id: string): Promise<void> {
    return actions.createAgain(this.ctx, id);
  }

  /** Forgets records that need no more work (it never cancels anything on the service). */
  remove(ids: readonly string[]): Promise<number> {
    return actions.remove(this.ctx, ids);
  }

  /** Removes every finished task: saved, failed, canceled, unknown or expired. */
  clearFinished(): Promise<number> {
    return actions.clearFinished(this.ctx);
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
        if ((r.save?.state === 'waiting' || r.save?.state === 'saving') && (r.save.notBefore ?? 0) <= now) this.launch(r.id, () => runSave(this.ctx, r.id));
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
