// A create whose answer was lost: the task list is searched for the task this run made, so the user can
// save it instead of paying for another.
import { WanClient, checkCandidates, decideMatch, explainError, findTasksCreatedBetween, sleep, taskCreatedAt, type LostCreate, type MatchDecision, type TaskListItem } from '../wan';
import type { Common } from './args';
import type { Io, RunContext } from './runContext';
import { listCommand, localTime, taskLine, waitCommand } from './text';

/** How the task of a create whose answer was lost is looked for in the task list. */
export interface LookupPolicy {
  /** Between two looks. */
  intervalMs: number;
  /** After the send, a list with no match is still believed to lag (as the extension's lookup). */
  windowMs: number;
  /** After the send, the CLI stops looking and says what it saw (tasks run 1 to 5 minutes). */
  maxMs: number;
}

export const LOOKUP: LookupPolicy = { intervalMs: 15_000, windowMs: 120_000, maxMs: 6 * 60_000 };

/** How far around the create's send time to look: clocks differ, and the service stamps on arrival. */
const LOOKUP_MARGIN_MS = 2 * 60_000;
const LOOKUP_TIMEOUT_MS = 20_000;

/**
 * After a create whose answer was lost: looks in the task list, again and again while that can still
 * change the answer, for the task this run made. A task is called this run's only when its success
 * answer echoes the run's prompt (`orig_prompt`) and its usage fits, and no other task of the window may
 * fit too (the extension decides the same way, src/wan/match.ts). Each task named comes with the
 * command that saves it, so the user can take the paid task instead of paying for another.
 */
export async function reportCreatedTasks(
  client: WanClient,
  lost: LostCreate,
  outDir: string,
  common: Common,
  ctx: RunContext,
  io: Io,
  signal: AbortSignal,
  policy: LookupPolicy,
) {
  let from: Date;
  let to: Date;
  let found: TaskListItem[];
  let decision: MatchDecision;
  try {
    for (;;) {
      from = new Date(lost.sentAt - LOOKUP_MARGIN_MS);
      to = new Date(Date.now() + LOOKUP_MARGIN_MS);
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]);
      found = await findTasksCreatedBetween(client, from, to, { signal: bounded });
      const listed = found
        .map((t) => ({ taskId: t.task_id, status: t.status, createdAt: taskCreatedAt(t)?.getTime() }))
        .sort((a, b) => Math.abs((a.createdAt ?? 0) - lost.sentAt) - Math.abs((b.createdAt ?? 0) - lost.sentAt));
      const candidates = await checkCandidates(client, listed, { signal: bounded });
      decision = decideMatch({ create: lost, rivals: [], candidates, now: Date.now(), windowMs: policy.windowMs });
      if (decision.kind !== 'wait' || Date.now() - lost.sentAt + policy.intervalMs > policy.maxMs) break;
      io.err(
        decision.reason === 'window'
          ? `No task in the list has this run's prompt yet (lists can lag); looking again in ${Math.ceil(policy.intervalMs / 1000)} s…`
          : `${decision.open.length} task(s) created around this run's create have not ended; the service shows a task's prompt only when it succeeds. Looking again in ${Math.ceil(policy.intervalMs / 1000)} s…`,
      );
      await sleep(policy.intervalMs, signal);
    }
  } catch (error) {
    if (signal.aborted) throw error;
    ctx.extra.candidates_error = explainError(error).message;
    ctx.notes.push(`The task list could not be read (${explainError(error).message}). Before trying again, check with: ${listCommand(common)}`);
    return;
  }
  const between = `between ${localTime(from)} and ${localTime(to)}`;
  const byId = new Map(found.map((t) => [t.task_id, t]));
  const named = decision.kind === 'adopt' ? [decision.taskId] : decision.kind === 'wait' && decision.open.length > 0 ? decision.open : decision.fitting;
  ctx.extra.candidates = named.map((id) => ({
    task_id: id,
    status: byId.get(id)?.status,
    gmt_create: byId.get(id)?.gmt_create,
    resume: waitCommand(id, outDir, common),
  }));
  if (decision.kind === 'adopt') ctx.extra.task_id = decision.taskId;
  const lag = `Lists can lag: check again in a minute with ${listCommand(common)} before trying again.`;
  if (named.length === 0) {
    ctx.notes.push(
      found.length === 0
        ? `No task of this model was created ${between}, as far as the task list shows now. ${lag}`
        : `None of the ${found.length} task(s) of this model created ${between} has this run's prompt, duration and resolution: they are other runs'. ${lag}`,
    );
    return;
  }
  ctx.notes.push(
    decision.kind === 'adopt'
      ? `This task, created ${between}, echoes this run's prompt, duration and resolution: it is this run's. Save it instead of paying for another:`
      : decision.kind === 'wait'
        ? `These ${named.length} task(s) of this model, created ${between}, have not ended, and the service shows a task's prompt only when it succeeds: one may be this run's. Save it instead of paying for another (wan-video status <ID> says when it ended):`
        : `These ${named.length} task(s) of this model, created ${between}, fit this run equally (same prompt, duration and resolution): one is this run's. Save it instead of paying for another:`,
  );
  for (const id of named) {
    const t = byId.get(id);
    ctx.notes.push(`  ${t ? taskLine(t) : id}`, `    ${waitCommand(id, outDir, common)}`);
  }
}
