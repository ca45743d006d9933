// The create job: a queued request is prepared (its local files read, encoded or uploaded) and sent once.
// From the moment it may reach the service the record says `creating`, so an interrupted create is looked
// up in the task list, never sent again blindly.
import { basename } from 'node:path';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanNetworkError,
  WanValidationError,
  explainError,
  isTransient,
  prepareRequest,
  sleep,
  type CreateTaskResponse,
} from '../../wan';
import { throttleDelay } from '../queue';
import { stateOfStatus, type EndpointRef } from '../record';
import { lookupWindow } from './constants';
import { announce, type JobContext } from './context';
import { outageDelay, type Outages } from './outages';

/** Failures of the create that sent nothing: the request can simply wait and go again. */
function isThrottling(error: unknown): error is WanApiError {
  return error instanceof WanApiError && error.httpStatus === 429 && /^(Throttling|LimitRequests)/.test(error.code);
}

/** Nothing was sent because nothing answered there: the request waits for the endpoint. */
function isUnreachable(error: unknown): error is WanNetworkError {
  return error instanceof WanNetworkError && !error.mayHaveReachedService && error.retryable;
}


export async function runCreate(ctx: JobContext, outages: Outages, id: string): Promise<void> {
  const record = ctx.store.get(id);
  if (!record || record.state !== 'queued') return;
  // Never sent, so it belongs to no endpoint yet: it goes where the settings say now.
  await ctx.withConnection(undefined, async (conn) => {
    let prepared;
    try {
      prepared = await prepareRequest(record.request, async (path, media) => {
        // Shown while the request waits: a large clip can take a while to go up.
        await ctx.store.patch(id, (t) => t.state === 'queued' && (t.message = `uploading ${basename(path)} (temporary upload)…`));
        return conn.client.uploadFile(path, { signal: ctx.signal, format: media.format });
      });
    } catch (error) {
      if (ctx.signal.aborted) return; // nothing was created: it stays queued for the next window
      if (isUnreachable(error)) return await waitForEndpoint(ctx, outages, id, conn.endpoint, error);
      if (error instanceof WanValidationError || !(isTransient(error) || isThrottling(error))) return await fail(ctx, id, error);
      return await requeue(ctx, id, error);
    }
    // The intent: from here on the service may create the task, so the record says so first.
    const sentAt = ctx.now();
    const sending = await ctx.store.patch(id, (t) => {
      if (t.state !== 'queued') return;
      t.state = 'creating';
      t.endpoint = conn.endpoint;
      t.code = undefined;
      t.message = undefined;
      t.sentAt = sentAt;
      t.createAttempts += 1;
      t.nextPollAt = sentAt + lookupWindow(ctx.deps.lookupWindowMs) / 4;
      t.outputSize = prepared.outputSize ?? t.outputSize;
    });
    if (sending?.state !== 'creating' || sending.sentAt !== sentAt) return;
    ctx.deps.log.info(`Task ${id}: creating (${prepared.duration} s ${prepared.resolution}, billed ${prepared.billedSeconds} s)`);
    let created: CreateTaskResponse;
    try {
      created = await conn.client.createTask(prepared.body, { signal: ctx.signal });
    } catch (error) {
      if (error instanceof WanAmbiguousCreateError || ctx.signal.aborted) {
        // It may exist: never sent again blindly; the lookup in the task list decides.
        ctx.deps.log.warn(`Task ${id}: the create's outcome is unknown; it will be looked up in the task list`);
        return;
      }
      if (isUnreachable(error)) return await waitForEndpoint(ctx, outages, id, conn.endpoint, error);
      if (isThrottling(error) || (error instanceof WanNetworkError && !error.mayHaveReachedService)) {
        return await requeue(ctx, id, error);
      }
      outages.answered(conn.endpoint.baseUrl); // it answered
      return await fail(ctx, id, error);
    }
    outages.answered(conn.endpoint.baseUrl);
    // From here the task exists and is paid for: whatever happens, it is never called failed.
    await recordCreated(ctx, id, created);
  }, (error) => fail(ctx, id, error));
}

/**
 * Writes the new task's ID. Should the store refuse the write (a lock held too long, a file the OS keeps
 * busy), it is tried again; if it never goes through the record stays `creating`, and the lookup in the
 * task list finds the task by the prompt.
 */
async function recordCreated(ctx: JobContext, id: string, created: CreateTaskResponse): Promise<void> {
  const taskId = created.output.task_id;
  const status = created.output.task_status;
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.store.patch(id, (t) => {
        if (t.taskId && t.taskId !== taskId) {
          ctx.deps.log.error(`Task ${id}: created ${taskId}, but the record already follows ${t.taskId}; add ${taskId} by ID to follow it too`);
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
        t.nextPollAt = known ? ctx.now() + ctx.pollDelay(t, 0) : ctx.now();
      });
      ctx.deps.log.info(`Task ${id}: created ${taskId}`);
      return;
    } catch (error) {
      ctx.deps.log.error(`Task ${id}: created ${taskId} but could not record it (${String(error)}); attempt ${attempt}`);
      if (attempt >= 5) return;
      await sleep(1000 * attempt);
    }
  }
}

async function requeue(ctx: JobContext, id: string, error: unknown): Promise<void> {
  const retryAfter = error instanceof WanApiError ? error.retryAfterMs : undefined;
  await ctx.store.patch(id, (t) => {
    // The user may have canceled it meanwhile; then it stays canceled.
    if (t.state !== 'queued' && t.state !== 'creating') return;
    t.state = 'queued';
    t.sentAt = undefined;
    t.notBefore = ctx.now() + throttleDelay(t.createAttempts + 1, retryAfter, ctx.random);
    t.code = explainError(error).code;
    t.message = explainError(error).message;
  });
  ctx.deps.log.warn(`Task ${id}: back in the queue (${explainError(error).message})`);
}

/**
 * Nothing answered, so nothing was sent: the request waits in the queue, trying again with a growing
 * delay. The first failure of an outage is announced (with the URL); later ones only reschedule.
 */
async function waitForEndpoint(ctx: JobContext, outages: Outages, id: string, endpoint: EndpointRef, error: WanNetworkError): Promise<void> {
  const url = error.url ?? endpoint.baseUrl;
  const outage = outages.failed(url, id);
  const { code, message } = explainError(error);
  const r = await ctx.store.patch(id, (t) => {
    if (t.state !== 'queued' && t.state !== 'creating') return;
    t.state = 'queued';
    t.sentAt = undefined;
    t.notBefore = ctx.now() + outageDelay(outage.failures, ctx.random);
    t.code = code;
    t.message = message;
  });
  ctx.deps.log.warn(`Task ${id}: nothing answers at ${url} (${message}); waiting ${Math.round(((r?.notBefore ?? 0) - ctx.now()) / 1000)} s`);
  if (outage.failures === 1 && r?.state === 'queued') {
    ctx.events.unreachable?.({ url, endpoint, reason: message, waiting: outage.waiting });
  }
}

async function fail(ctx: JobContext, id: string, error: unknown): Promise<void> {
  const { code, message } = explainError(error);
  const r = await ctx.store.patch(id, (t) => {
    if (t.state !== 'queued' && t.state !== 'creating') return;
    t.state = 'failed';
    t.code = code;
    t.message = message;
  });
  ctx.deps.log.warn(`Task ${id}: refused before a task was made: ${message}`);
  if (r) await announce(ctx, r);
}
