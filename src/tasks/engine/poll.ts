// The poll job: a task that exists and is paid for is asked for its state on the schedule, every answer
// copied into its record; a failure to reach it is waited out until the service would have forgotten it.
import { WanApiError, explainError, nextPollDelay, type PollSchedule, type TaskResponse } from '../../wan';
import { parseServiceTime } from '../../wan/time';
import { expiresAt, stateOfStatus, type TaskRecord } from '../record';
import { EndPredictor, REHEARSAL_COLD_WINDOW, historyOfRecords, recordSchedule } from '../schedule';
import { isRehearsal } from '../spend';
import { accountKey } from '../queue';
import type { TaskStore } from '../store';
import { PREDICTOR_TTL_MS } from './constants';
import { announce, type JobContext } from './context';
import type { EngineDeps } from './types';

/** When to poll a task next: the deployment's schedule, or the one learned from the store's finished tasks. */
export class PollDelays {
  private readonly predictors = new Map<string, { at: number; ended: number; predictor: EndPredictor }>();

  constructor(
    private readonly store: TaskStore,
    private readonly deps: Pick<EngineDeps, 'schedule'>,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  /** The schedule's next delay for a task of this age; after failures, the outage backoff. */
  delay(t: TaskRecord, failures: number, retryAfterMs?: number): number {
    const since = parseServiceTime(t.submitTime)?.getTime() ?? t.sentAt ?? t.requestedAt;
    const state = { polls: t.polls, taskAgeMs: Math.max(0, this.now() - since), failures, retryAfterMs };
    return nextPollDelay(state, this.random, this.deps.schedule ?? this.learnedSchedule(t));
  }

  /**
   * The schedule learned from the store's finished tasks of the task's own account (every window's: the store
   * is shared; a rehearsal's seconds must not teach the service's minutes, nor the other way round); adaptive
   * when it knows nothing. Learned again as soon as a task has ended (the next task of a rehearsal, seconds
   * later, must know the one before it), and at least every PREDICTOR_TTL_MS.
   */
  private learnedSchedule(t: TaskRecord): PollSchedule {
    const now = this.now();
    const key = accountKey(t.endpoint);
    const mine = this.store.all().filter((r) => accountKey(r.endpoint) === key);
    let ended = 0;
    for (const r of mine) if (r.endTime !== undefined && r.state === 'succeeded') ended++;
    let known = this.predictors.get(key);
    if (!known || known.ended !== ended || now - known.at > PREDICTOR_TTL_MS) {
      known = { at: now, ended, predictor: new EndPredictor(historyOfRecords(mine)) };
      this.predictors.set(key, known);
    }
    // The dense polls' budget is the account's: its 20 queries per second are not shared with another's.
    const polled = mine.filter((r) => r.state === 'pending' || r.state === 'running').length;
    return recordSchedule(known.predictor, t, polled, isRehearsal(t.endpoint) ? REHEARSAL_COLD_WINDOW : undefined);
  }
}

export async function runPoll(ctx: JobContext, id: string): Promise<void> {
  const r = ctx.store.get(id);
  if (!r?.taskId) return;
  const taskId = r.taskId;
  await ctx.withConnection(
    r.endpoint,
    async (conn) => {
      try {
        await applyTask(ctx, id, await conn.client.getTask(taskId, { signal: ctx.signal }));
      } catch (error) {
        if (!ctx.signal.aborted) await pollFailed(ctx, id, error);
      }
    },
    (error) => pollFailed(ctx, id, error),
  );
}

/** The task exists and is paid for: every failure to reach it is waited out, until it would expire. */
async function pollFailed(ctx: JobContext, id: string, error: unknown): Promise<void> {
  const retryAfter = error instanceof WanApiError ? error.retryAfterMs : undefined;
  const r = await ctx.store.patch(id, (t) => {
    t.pollFailures += 1;
    t.nextPollAt = ctx.now() + ctx.pollDelay(t, t.pollFailures, retryAfter);
    t.message = `last check failed: ${explainError(error).message}`;
    const at = expiresAt(t);
    if (at !== undefined && ctx.now() > at) {
      t.state = 'unknown';
      t.message = 'the task could not be reached before the service forgot it (24 hours)';
    }
  });
  ctx.deps.log.warn(`Task ${id}: poll failed (${explainError(error).message}); next try in ${Math.round(((r?.nextPollAt ?? 0) - ctx.now()) / 1000)} s`);
  if (r?.state === 'unknown') await announce(ctx, r);
}

/** Copies a task answer into the record and moves it on (a success starts its save). */
export async function applyTask(ctx: JobContext, id: string, task: TaskResponse): Promise<void> {
  const o = task.output;
  const r = await ctx.store.patch(id, (t) => {
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
    t.nextPollAt = ctx.now() + ctx.pollDelay(t, 0);
  });
  if (r && (r.state === 'failed' || r.state === 'canceled' || r.state === 'unknown')) await announce(ctx, r);
}
