// The lookup job: a create whose answer was lost may have made a task. It is searched in the service's task
// list (around the time it was sent) and adopted only when the match is certain; after its window, with
// nothing certain, the user decides. It is never sent again blindly.
import { checkCandidates, decideMatch, explainError, findTasksCreatedBetween, taskCreatedAt, type CandidateTask, type LostCreate, type WanClient } from '../../wan';
import type { TaskRecord } from '../record';
import { LIST_SLACK_MS, LOOKUP_RETRY_MS, MAX_LOOKUP_CANDIDATES, lookupWindow } from './constants';
import type { JobContext } from './context';
import type { ListedTask } from './types';

/** Lookups run one at a time, so two never claim the same task. */
export class Lookups {
  private turn: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: JobContext) {}

  inTurn(id: string): Promise<void> {
    const turn = this.turn.then(() => lookUp(this.ctx, id));
    this.turn = turn.catch(() => undefined);
    return turn;
  }
}

/** Tasks of this model the account created between two instants, from the service's task list. */
export async function listCreated(signal: AbortSignal, client: WanClient, from: Date, to: Date): Promise<ListedTask[]> {
  const items = await findTasksCreatedBetween(client, from, to, { signal });
  return items.map((i) => ({ taskId: i.task_id, status: i.status, createdAt: taskCreatedAt(i)?.getTime() }));
}

/** An interrupted create: find the task it may have made in the service's list, never re-send it. */
async function lookUp(ctx: JobContext, id: string): Promise<void> {
  const r = ctx.store.get(id);
  if (!r || r.state !== 'creating' || r.sentAt === undefined) return;
  const sentAt = r.sentAt;
  const window = lookupWindow(ctx.deps.lookupWindowMs);
  const retryLater = async (what: string, error: unknown) => {
    ctx.deps.log.warn(`Task ${id}: ${what} (${explainError(error).message}); trying again`);
    await ctx.store.patch(id, (t) => (t.nextPollAt = ctx.now() + LOOKUP_RETRY_MS));
  };
  await ctx.withConnection(r.endpoint, async (conn) => {
    let listed: ListedTask[];
    const from = sentAt - LIST_SLACK_MS;
    const to = Math.max(ctx.now(), sentAt + window) + LIST_SLACK_MS;
    try {
      listed = await listCreated(ctx.signal, conn.client, new Date(from), new Date(to));
    } catch (error) {
      return retryLater('looking up the interrupted create failed', error);
    }
    const known = new Set(ctx.store.all().map((t) => t.taskId).filter(Boolean));
    const candidates = listed.filter((t) => !known.has(t.taskId));
    candidates.sort((a, b) => Math.abs((a.createdAt ?? 0) - sentAt) - Math.abs((b.createdAt ?? 0) - sentAt));
    let checked: CandidateTask[];
    try {
      checked = await checkCandidates(conn.client, candidates, { max: MAX_LOOKUP_CANDIDATES, signal: ctx.signal });
    } catch (error) {
      return retryLater("checking the task list's candidates failed", error);
    }
    // Other creates of this account whose outcome is unknown may own a candidate too.
    const rivals = ctx.store
      .all()
      .filter((t) => t.id !== id && !t.taskId && t.sentAt !== undefined && (t.state === 'creating' || t.state === 'unresolved') && t.endpoint.kind === r.endpoint.kind)
      .map(lostCreateOf);
    const decision = decideMatch({ create: lostCreateOf(r), rivals, candidates: checked, now: ctx.now(), windowMs: window });
    const lookup = { from, to, seen: checked.map((c) => ({ taskId: c.taskId, status: c.status })), fitting: decision.kind === 'adopt' ? [decision.taskId] : decision.fitting };
    const waiting = (t: TaskRecord) => t.state === 'creating' && !t.taskId;
    if (decision.kind === 'adopt') {
      const taskId = decision.taskId;
      const adopted = await ctx.store.update((tasks) => {
        const t = tasks.find((x) => x.id === id);
        // Under the lock: the record still waits, and no other record took this task meanwhile.
        if (!t || !waiting(t) || tasks.some((x) => x.taskId === taskId)) return false;
        t.taskId = taskId;
        t.state = 'pending';
        t.nextPollAt = ctx.now();
        t.message = undefined;
        t.lookup = lookup;
        t.updatedAt = ctx.now();
        return true;
      });
      if (adopted) ctx.deps.log.info(`Task ${id}: the interrupted create made ${taskId}; following it`);
      else await ctx.store.patch(id, (t) => waiting(t) && (t.nextPollAt = ctx.now() + 1000)); // taken meanwhile: look again, past it
      return;
    }
    if (decision.kind === 'wait') {
      // Looked at again soon: a task that ends now says its prompt.
      await ctx.store.patch(id, (t) => {
        if (!waiting(t)) return;
        t.lookup = lookup;
        t.nextPollAt = ctx.now() + Math.min(LOOKUP_RETRY_MS, window / 4);
      });
      ctx.deps.log.info(`Task ${id}: interrupted create not matched yet (${decision.reason}: ${decision.open.length} task(s) of its window not ended, ${decision.fitting.length} fitting); looking again`);
      return;
    }
    const unresolved = await ctx.store.patch(id, (t) => {
      if (!waiting(t)) return;
      t.state = 'unresolved';
      t.lookup = lookup;
      t.message =
        decision.fitting.length > 0
          ? `the create was interrupted and ${decision.fitting.length} tasks fit it equally (${decision.fitting.join(', ')}): add the right one by its ID rather than creating it again`
          : 'the create was interrupted and no ended task of its time window has its prompt: it may not have been created';
    });
    if (unresolved?.state === 'unresolved') {
      ctx.deps.log.warn(`Task ${id}: interrupted create not resolved from the task list (${unresolved.message}); the user decides`);
      ctx.events.unresolved?.(unresolved);
    }
  }, (error) => retryLater('cannot look up the interrupted create now', error));
}

/** A record's create as the matching sees it. */
function lostCreateOf(r: TaskRecord): LostCreate {
  return { key: r.id, prompt: r.request.prompt, duration: r.request.duration, resolution: r.request.resolution, sentAt: r.sentAt ?? r.requestedAt };
}
