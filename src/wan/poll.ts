// When to ask about a task again: the poll schedules (adaptive, the SDK's, fixed) and the outage
// policy. Everything here is a pure function of its arguments; only `pollTask` waits, so the CLI, the
// client and the extension's shared poller all follow one policy and a benchmark can replay it.
import { WanApiError, WanNetworkError } from './errors';
import { TASK_TTL_MS } from './limits';
import { clampDelay, sleep } from './retry';
import { TERMINAL_STATUSES, type TaskResponse } from './schema';
import { parseServiceTime } from './time';

/** What the poller knows when it picks the next delay. */
export interface PollState {
  /** Answers received so far (polls that failed do not count). */
  polls: number;
  /** How old the task is, as well as it is known: since its submit_time, or at least since waiting began. */
  taskAgeMs: number;
  /** Polls that failed in a row since the last answer (0 after an answer). */
  failures: number;
  /** The Retry-After of the last failure, if it carried one. */
  retryAfterMs?: number;
}

export interface PollSchedule {
  readonly name: string;
  /** Delay before the next poll, after `polls` (>= 1) answers, for a task `taskAgeMs` old; before jitter. */
  baseDelayMs(polls: number, taskAgeMs: number): number;
  /** Relative spread: 0.2 draws each delay from ±20% around the base, so clients do not poll in lockstep. */
  readonly jitter: number;
}

/** The official SDKs' wait: 1, 1, 2, 2, 2, 4, 4, 4 s, then every 5 s, without jitter. */
export const SDK_SCHEDULE: PollSchedule = {
  name: 'sdk',
  jitter: 0,
  baseDelayMs: (polls) => [1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000][polls - 1] ?? 5000,
};

/** One interval throughout (the API reference suggests 15 s; `--poll-interval` picks another). */
export function fixedSchedule(intervalMs: number, jitter = 0): PollSchedule {
  const base = clampDelay(intervalMs);
  return { name: `fixed-${base}ms`, jitter, baseDelayMs: () => base };
}

const QUICK_MS = [2000, 3000, 5000];

/**
 * The default. Tasks take 1 to 5 minutes, so: three quick polls (2, 3, 5 s) to confirm the task and
 * catch an early FAILED; 10 s until the first minute, when nothing can be finished yet; 5 s through
 * the usual 1-6 minute window, where completion is noticed 2.5 s late on average; then 10 s, and 15 s
 * after 15 minutes for a long queue. ±20% jitter throughout.
 */
export const ADAPTIVE_SCHEDULE: PollSchedule = {
  name: 'adaptive',
  jitter: 0.2,
  baseDelayMs: (polls, age) => {
    if (age < 60_000) return polls <= QUICK_MS.length ? QUICK_MS[polls - 1]! : 10_000;
    if (age < 6 * 60_000) return 5000;
    if (age < 15 * 60_000) return 10_000;
    return 15_000;
  },
};

/** The named schedules, for settings and for the benchmark. */
export const POLL_SCHEDULES = {
  adaptive: ADAPTIVE_SCHEDULE,
  sdk: SDK_SCHEDULE,
  fixed: fixedSchedule(15_000),
} as const;
export type PollScheduleName = keyof typeof POLL_SCHEDULES;

/** How long polling rides out failures. A task lives 24 h, so an outage of minutes must not end the wait. */
export interface OutagePolicy {
  /** First backoff after a failed poll; it doubles with each failure in a row. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A longer Retry-After is cut to this (and waited for), rather than ending the wait. */
  maxRetryAfterMs: number;
  /** Give up when the task is older than this: its result is gone anyway. */
  maxTaskAgeMs: number;
}

export const DEFAULT_OUTAGE_POLICY: OutagePolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 10 * 60_000,
  maxTaskAgeMs: TASK_TTL_MS,
};

/** 429s that are not about rate: another try will not pay the bill. */
const BILLING_CODES = new Set(['PrepaidBillOverdue', 'PostpaidBillOverdue', 'CommodityNotPurchased', 'Arrearage']);

/**
 * Poll failures worth another try: lost connections, throttling, server errors, and a 404 on the task
 * URL (a gateway that briefly lost its route; the task itself answers UNKNOWN when it is gone).
 */
export function isTransientPollFailure(error: unknown): boolean {
  if (error instanceof WanNetworkError) return error.retryable;
  if (!(error instanceof WanApiError)) return false;
  const s = error.httpStatus;
  if (s === 429) return !BILLING_CODES.has(error.code);
  return s === 404 || s === 408 || s >= 500;
}

/** Whether to poll again after `error` (state already counts it as a failure). */
export function shouldRetryPoll(state: PollState, error: unknown, policy: OutagePolicy = DEFAULT_OUTAGE_POLICY): boolean {
  return isTransientPollFailure(error) && state.taskAgeMs < policy.maxTaskAgeMs;
}

/**
 * The delay before the next poll: the schedule after an answer, capped exponential backoff (half
 * fixed, half random) after failures, and never shorter than a Retry-After (cut to the policy's cap).
 */
export function nextPollDelay(
  state: PollState,
  random: () => number = Math.random,
  schedule: PollSchedule = ADAPTIVE_SCHEDULE,
  policy: OutagePolicy = DEFAULT_OUTAGE_POLICY,
): number {
  let delay: number;
  if (state.failures > 0) {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(state.failures - 1, 40));
    delay = ceiling / 2 + (random() * ceiling) / 2;
  } else {
    const base = schedule.baseDelayMs(Math.max(1, state.polls), state.taskAgeMs);
    delay = base * (1 + schedule.jitter * (2 * random() - 1));
  }
  if (state.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(state.retryAfterMs, policy.maxRetryAfterMs));
  return clampDelay(delay);
}

/**
 * Replays a schedule against a task that finishes `finishMs` after it was submitted, with every poll
 * answered: how many queries it costs and how late it notices. For comparing schedules offline.
 */
export function simulatePolling(
  schedule: PollSchedule,
  finishMs: number,
  random: () => number = Math.random,
  firstPollAtMs = 0,
): { queries: number; noticedAtMs: number; lateMs: number } {
  let t = firstPollAtMs;
  let polls = 0;
  for (;;) {
    polls++;
    if (t >= finishMs) return { queries: polls, noticedAtMs: t, lateMs: t - finishMs };
    t += Math.max(1, nextPollDelay({ polls, taskAgeMs: t, failures: 0 }, random, schedule));
  }
}

// ---- The waiting loop (the only part with timers). ----

export interface PollEvent {
  kind: 'answer' | 'failure';
  /** The wait that follows. */
  delayMs: number;
  /** For a failure: polls failed in a row, and why. */
  failures?: number;
  error?: unknown;
}

export interface PollTaskOptions {
  schedule?: PollSchedule;
  outage?: Partial<OutagePolicy>;
  signal?: AbortSignal;
  random?: () => number;
  /** Every answer, terminal or not. */
  onUpdate?: (task: TaskResponse) => void;
  /** Before each wait: after an answer, or after a failure that will be retried. */
  onWait?: (event: PollEvent) => void;
  /** For tests and replays. */
  now?: () => number;
}

/** A submit time from the service, if it is plausible against our clock (skew must not end a wait early). */
function plausibleSubmitTime(text: string | undefined, now: number): number | undefined {
  const at = parseServiceTime(text)?.getTime();
  if (at === undefined || at > now + 5 * 60_000 || now - at > TASK_TTL_MS + 60 * 60_000) return undefined;
  return at;
}

/**
 * Polls with `fetchOnce` (one request, no retries of its own) until the task ends, and returns the
 * last answer. A failure that is not worth another try, or the task's 24 h running out, rejects with
 * that failure; the task is not lost, and the caller can resume later with the same task ID.
 */
export async function pollTask(fetchOnce: (signal?: AbortSignal) => Promise<TaskResponse>, options: PollTaskOptions = {}): Promise<TaskResponse> {
  const schedule = options.schedule ?? ADAPTIVE_SCHEDULE;
  const policy = { ...DEFAULT_OUTAGE_POLICY, ...options.outage };
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();
  let submittedAt: number | undefined;
  const state: PollState = { polls: 0, taskAgeMs: 0, failures: 0 };
  const age = () => {
    const t = now();
    return Math.max(t - started, submittedAt !== undefined ? t - submittedAt : 0);
  };
  for (;;) {
    let event: PollEvent;
    try {
      const task = await fetchOnce(options.signal);
      state.polls++;
      state.failures = 0;
      state.retryAfterMs = undefined;
      submittedAt ??= plausibleSubmitTime(task.output.submit_time, now());
      options.onUpdate?.(task);
      if (TERMINAL_STATUSES.has(task.output.task_status)) return task;
      state.taskAgeMs = age();
      event = { kind: 'answer', delayMs: nextPollDelay(state, random, schedule, policy) };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      state.failures++;
      state.retryAfterMs = error instanceof WanApiError ? error.retryAfterMs : undefined;
      state.taskAgeMs = age();
      if (!shouldRetryPoll(state, error, policy)) throw error;
      event = { kind: 'failure', delayMs: nextPollDelay(state, random, schedule, policy), failures: state.failures, error };
    }
    options.onWait?.(event);
    await sleep(event.delayMs, options.signal);
  }
}
