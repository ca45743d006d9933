// What the user and the extension ask of the engine: queue a request, add or sync tasks of the account,
// cancel, retry, decide an unresolved create, forget records. Each changes the store and wakes the loop.
import { randomUUID } from 'node:crypto';
import { WanValidationError, checkRequest } from '../../wan';
import { parseServiceTime } from '../../wan/time';
import { TaskRequestSchema, needsWork, type EndpointRef, type ShotLink, type TaskRecord, type TaskRequest } from '../record';
import { LIST_SLACK_MS, SERVICE_MEMORY_MS, lookupWindow } from './constants';
import type { JobContext } from './context';
import { listCreated } from './lookup';
import type { Outages } from './outages';
import { applyTask } from './poll';
import { takeSavedVideo } from './save';
import type { ListedTask } from './types';

/**
 * Records the request as queued (nothing is sent yet) and returns its record. Inputs are checked
 * first, so a request the service would refuse is never queued.
 */
export async function submit(
  ctx: JobContext,
  request: TaskRequest,
  where: { endpoint: EndpointRef; workspaceFolder?: string; outputFolder?: string; shot?: ShotLink },
): Promise<TaskRecord> {
  const parsed = TaskRequestSchema.safeParse(request);
  if (!parsed.success) {
    throw new WanValidationError(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'request', message: i.message })));
  }
  // Every rule and every local file, checked without uploading anything.
  const checked = await checkRequest(parsed.data);
  const now = ctx.now();
  const record = await ctx.store.add({
    id: randomUUID(),
    state: 'queued',
    request: parsed.data,
    endpoint: where.endpoint,
    workspaceFolder: where.workspaceFolder,
    outputFolder: where.outputFolder,
    requestedAt: now,
    updatedAt: now,
    outputSize: checked.outputSize,
    ...(where.shot ? { shot: where.shot } : {}),
  });
  ctx.wake();
  return record;
}

/** Adds a task that exists on the service (made by the CLI, another machine, …). */
export async function adopt(ctx: JobContext, taskId: string, where: { endpoint?: EndpointRef; workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord> {
  const existing = ctx.store.byTaskId(taskId);
  if (existing) return existing;
  return ctx.withConnection(where.endpoint, async (conn) => {
    const task = await conn.client.getTask(taskId, { signal: ctx.signal });
    if (task.output.task_status === 'UNKNOWN') {
      throw new WanValidationError([{ field: 'task_id', message: `the service does not know task ${taskId} (wrong region or key, or older than 24 hours)` }]);
    }
    const now = ctx.now();
    const record = await ctx.store.add({
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
    await applyTask(ctx, record.id, task);
    if (ctx.store.get(record.id)?.state === 'succeeded') await takeSavedVideo(ctx, record.id);
    ctx.wake();
    return ctx.store.get(record.id) ?? record;
  });
}

/** Adds the account's tasks of this model from the last 24 hours that the list does not hold yet. */
export async function syncFromAccount(ctx: JobContext, where: { workspaceFolder?: string; outputFolder?: string }): Promise<TaskRecord[]> {
  const to = new Date(ctx.now() + LIST_SLACK_MS);
  const { listed, endpoint } = await ctx.withConnection(undefined, async (conn) => ({
    listed: await listCreated(ctx.signal, conn.client, new Date(to.getTime() - SERVICE_MEMORY_MS), to),
    endpoint: conn.endpoint,
  }));
  // A task made around the time of an interrupted create may be that create's: its lookup decides.
  const interrupted = ctx.store.all().filter((r) => (r.state === 'creating' || r.state === 'unresolved') && r.sentAt !== undefined);
  const window = lookupWindow(ctx.deps.lookupWindowMs);
  const nearInterrupted = (t: ListedTask) =>
    t.createdAt === undefined
      ? interrupted.length > 0
      : interrupted.some((r) => t.createdAt! >= r.sentAt! - LIST_SLACK_MS && t.createdAt! <= r.sentAt! + window + LIST_SLACK_MS);
  const added: TaskRecord[] = [];
  for (const t of listed) {
    if (ctx.store.byTaskId(t.taskId) || nearInterrupted(t)) continue;
    added.push(await adopt(ctx, t.taskId, { endpoint, ...where }));
  }
  return added;
}

/** Cancels a locally queued request, or asks the service to cancel a PENDING task. */
export async function cancel(ctx: JobContext, id: string): Promise<TaskRecord | undefined> {
  const r = ctx.store.get(id);
  if (!r) return undefined;
  if (r.state === 'queued' || r.state === 'unresolved') {
    return ctx.store.patch(id, (t) => {
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
  await ctx.withConnection(r.endpoint, async (conn) => {
    await conn.client.cancelTask(taskId);
    await applyTask(ctx, id, await conn.client.getTask(taskId));
  });
  ctx.wake();
  return ctx.store.get(id);
}

/**
 * Requests waiting for an unreachable endpoint go now: the endpoint setting changed, or the user asked
 * to retry. The backoff starts over, and a new failure is announced again.
 */
export async function retryWaiting(ctx: JobContext, outages: Outages): Promise<void> {
  const ids = new Set(outages.clear());
  if (ids.size) {
    await ctx.store.update((tasks) => {
      for (const t of tasks) if (ids.has(t.id) && t.state === 'queued') t.notBefore = undefined;
    });
  }
  ctx.wake();
}

/** Cancels the requests (never sent) still waiting for the endpoint at `url`. */
export async function cancelWaiting(ctx: JobContext, outages: Outages, url: string): Promise<number> {
  const ids = outages.waitingAt(url);
  let canceled = 0;
  for (const id of ids) if (ctx.store.get(id)?.state === 'queued' && (await cancel(ctx, id))?.state === 'canceled') canceled++;
  return canceled;
}

/** Tries the save again (a failed download, or one waiting for a folder). */
export async function retrySave(ctx: JobContext, id: string): Promise<void> {
  await ctx.store.patch(id, (t) => {
    if (t.state === 'succeeded' && t.save && t.save.state !== 'saved') {
      t.save = { state: 'waiting', attempts: 0 };
      t.announced = false; // the user asked: the outcome is told again
    }
  });
  ctx.wake();
}

/** An unresolved create: look it up in the service's task list again. */
export async function lookAgain(ctx: JobContext, id: string): Promise<void> {
  await ctx.store.patch(id, (t) => {
    if (t.state === 'unresolved') {
      t.state = 'creating';
      t.nextPollAt = undefined;
      t.message = undefined;
    }
  });
  ctx.wake();
}

/** An unresolved create: the user decided it was never made; queue it again (a new paid task). */
export async function createAgain(ctx: JobContext, id: string): Promise<void> {
  await ctx.store.patch(id, (t) => {
    if (t.state === 'unresolved' && !t.taskId) {
      t.state = 'queued';
      t.sentAt = undefined;
      t.notBefore = undefined;
      t.message = undefined;
      t.lookup = undefined;
    }
  });
  ctx.wake();
}

/** Forgets records that need no more work (it never cancels anything on the service). */
export async function remove(ctx: JobContext, ids: readonly string[]): Promise<number> {
  const drop = new Set(ids);
  // Decided on the freshest records, under the lock: another window may have just sent one.
  return ctx.store.update((tasks) => {
    const busy = tasks.some((t) => drop.has(t.id) && (t.state === 'creating' || t.state === 'pending' || t.state === 'running'));
    if (busy) throw new WanValidationError([{ field: 'task', message: 'a task that is being created or is running cannot be removed from the list; cancel it or wait for it to end' }]);
    const kept = tasks.filter((t) => !drop.has(t.id));
    const removed = tasks.length - kept.length;
    tasks.splice(0, tasks.length, ...kept);
    return removed;
  });
}

/** Removes every finished task: saved, failed, canceled, unknown or expired. */
export function clearFinished(ctx: JobContext): Promise<number> {
  return ctx.store.remove(ctx.store.all().filter((r) => !needsWork(r) && r.state !== 'unresolved').map((r) => r.id));
}
