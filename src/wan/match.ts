// Which task, if any, a create whose answer was lost made. The task list says only when each task was
// created; a poll says more, but the service echoes the prompt (`orig_prompt`), the usage and the result
// only once a task SUCCEEDED. So a task that has not ended may still be the one, and two tasks of one
// prompt are told apart only by what their answers do say. The extension's engine and the CLI both
// decide here. Pure: no I/O, no clock.
import { DURATION_DEFAULT_S, PROMPT_MAX_CHARS, RESOLUTION_DEFAULT } from './limits';
import { TERMINAL_STATUSES, type Resolution, type TaskStatus, type Usage } from './schema';
import { billedSeconds } from './sizing';

/** A create whose outcome is unknown: what it asked for, and when it was sent (epoch ms). */
export interface LostCreate {
  /** Any key that tells creates apart (the engine's record ID). */
  key: string;
  prompt?: string;
  duration?: number;
  resolution?: Resolution;
  sentAt: number;
}

/** A task of the create's time window, with what its poll answered (nothing more is assumed). */
export interface CandidateTask {
  taskId: string;
  /** When the service created it (from the list), epoch ms. */
  createdAt?: number;
  /** From the task's own poll; a list-only status is fine too. */
  status: string;
  /** Read only from a SUCCEEDED answer: before that the reference shows none. */
  origPrompt?: string;
  usage?: Usage | null;
}

export type MatchDecision =
  /** This task is the create's, and no other task or create could claim it. */
  | { kind: 'adopt'; taskId: string }
  /**
   * Look again later: `open` tasks have not ended (their prompt is not known yet), `fitting` tasks fit but
   * so does another task or create, or `window` (nothing fits yet, and lists can lag).
   */
  | { kind: 'wait'; reason: 'open' | 'ambiguous' | 'window'; open: string[]; fitting: string[] }
  /** Every task of the window ended and none is the create's (`fitting` empty), or several fit for good. */
  | { kind: 'unresolved'; fitting: string[] };

export interface MatchInput {
  create: LostCreate;
  /** Other creates of the same account whose outcome is unknown too: they may own a candidate. */
  rivals: readonly LostCreate[];
  /** Tasks created in the window, not yet held by any record. */
  candidates: readonly CandidateTask[];
  now: number;
  /** How long after the send a list without a match is still believed to lag. */
  windowMs: number;
}

/** Two creates sent closer than this may reach the service in either order. */
export const ORDER_GAP_MS = 10_000;

function promptAsEchoed(prompt: string | undefined): string {
  // The service truncates a longer prompt; the echo is the prompt it kept.
  return (prompt ?? '').slice(0, PROMPT_MAX_CHARS);
}

export function hasEnded(c: CandidateTask): boolean {
  return TERMINAL_STATUSES.has(c.status as TaskStatus);
}

/** The task's answer says this create made it: its echoed prompt, and its usage where given. */
export function fits(create: LostCreate, c: CandidateTask): boolean {
  if (c.status !== 'SUCCEEDED') return false;
  if ((c.origPrompt ?? '') !== promptAsEchoed(create.prompt)) return false;
  const seconds = billedSeconds(create.duration ?? DURATION_DEFAULT_S);
  if (c.usage?.duration !== undefined && c.usage.duration !== seconds) return false;
  const sr = (create.resolution ?? RESOLUTION_DEFAULT) === '720P' ? 720 : 1080;
  if (c.usage?.SR !== undefined && c.usage.SR !== sr) return false;
  return true;
}

/** The candidates whose answers fit the create. */
export function fittingCandidates(create: LostCreate, candidates: readonly CandidateTask[]): CandidateTask[] {
  return candidates.filter((c) => fits(create, c));
}

/**
 * Pairs creates and tasks that fit each other equally by order: the one sent first made the task created
 * first. Only when the sends are far enough apart to have arrived in that order, and every pair fits.
 */
function pairByOrder(group: LostCreate[], pool: CandidateTask[]): Map<string, string> | undefined {
  if (group.length !== pool.length || pool.some((c) => c.createdAt === undefined)) return undefined;
  const creates = [...group].sort((a, b) => a.sentAt - b.sentAt);
  const tasks = [...pool].sort((a, b) => a.createdAt! - b.createdAt!);
  for (let i = 1; i < creates.length; i++) {
    if (creates[i]!.sentAt - creates[i - 1]!.sentAt < ORDER_GAP_MS) return undefined;
    if (tasks[i]!.createdAt! <= tasks[i - 1]!.createdAt!) return undefined;
  }
  if (creates.some((c, i) => !fits(c, tasks[i]!))) return undefined;
  return new Map(creates.map((c, i) => [c.key, tasks[i]!.taskId]));
}

export function decideMatch(input: MatchInput): MatchDecision {
  const { create, rivals, candidates } = input;
  const open = candidates.filter((c) => !hasEnded(c)).map((c) => c.taskId);
  const mine = fittingCandidates(create, candidates);
  const fitting = mine.map((c) => c.taskId);
  if (mine.length === 0) {
    if (open.length > 0) return { kind: 'wait', reason: 'open', open, fitting };
    if (input.now - create.sentAt < input.windowMs) return { kind: 'wait', reason: 'window', open, fitting };
    return { kind: 'unresolved', fitting };
  }
  // A task that has not ended may turn out to fit as well: never adopt while it could.
  if (open.length > 0) return { kind: 'wait', reason: 'open', open, fitting };
  const claimants = rivals.filter((r) => mine.some((c) => fits(r, c)));
  if (mine.length === 1 && claimants.length === 0) return { kind: 'adopt', taskId: mine[0]!.taskId };
  const group = [create, ...claimants];
  const pool = candidates.filter((c) => group.some((g) => fits(g, c)));
  const paired = pairByOrder(group, pool)?.get(create.key);
  if (paired) return { kind: 'adopt', taskId: paired };
  return { kind: 'unresolved', fitting };
}
