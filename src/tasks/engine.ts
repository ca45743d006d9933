// The task engine: owns every task from the user's request until its video is saved. One timer drives
// the queue, the polls, the lookups of interrupted creates and the downloads of every task this window
// leases. Nothing else talks to the service for a task. No vscode import: the extension wires it.
import {
  WanLocalFileError,
  isLocalFileErrorCode,
  explainError,
} from '../wan';
import { WAN_I2V_LIMITS } from './queue';
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
import { withConnection, type EngineConnection } from './engine/connection';
import { announce, type JobContext } from './engine/context';
import { runCreate } from './engine/create';
import { Lookups } from './engine/lookup';
import { PollDelays, runPoll } from './engine/poll';
import { removeStaleParts, runSave, warnIfExpiring, writeRecord } from './engine/save';
import { Outages } from './engine/outages';
import { Scheduler, storageBackoffMs, type JobKind } from './engine/scheduler';
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
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly stopper = new AbortController();
  private readonly scheduler: Scheduler;
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
    this.scheduler = new Scheduler(deps.limits ?? WAN_I2V_LIMITS);
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
    return storageBackoffMs(this.storageFailures);
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
    const all = this.store.all();
    const due = this.scheduler.due({ all, holds: (r) => held.has(r.id), busy: (id) => this.inFlight.has(id) }, now);
    for (const r of all) {
      if (r.state === 'succeeded' && held.has(r.id) && !this.inFlight.has(r.id) && !this.scheduler.backingOff(r.id, now)) warnIfExpiring(this.ctx, r, now);
    }
    for (const { id, kind } of due) this.launch(id, this.jobs[kind]);
  }

  /** Each kind of job the scheduler picks, run for one task. */
  private readonly jobs: Record<JobKind, (id: string) => Promise<void>> = {
    create: (id) => runCreate(this.ctx, this.outages, id),
    lookup: (id) => this.lookups.inTurn(id),
    poll: (id) => runPoll(this.ctx, id),
    save: (id) => runSave(this.ctx, id),
    record: async (id) => void (await writeRecord(this.ctx, id)),
  };

  private nextWake(): number {
    // At the latest when the leases want renewing (at half their life), which also notices other windows' changes.
    return this.scheduler.nextWakeMs({ all: this.store.all(), holds: (r) => this.store.holds(r), busy: (id) => this.inFlight.has(id) }, this.now(), this.store.leaseMs / 4);
  }

  private launch(id: string, job: (id: string) => Promise<void>): void {
    const p = job(id)
      .catch((error: unknown) => {
        this.scheduler.failed(id, this.now());
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
}
