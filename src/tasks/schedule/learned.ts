// The learned poll schedule: sparse before a task's predicted end window, dense (about every 1.5 s)
// inside it, and the adaptive schedule's cadence past it, so a wrong prediction costs no more than
// today's default. Pure functions of their arguments, so the engine, the CLI and the bench share them.
import { ADAPTIVE_SCHEDULE, nextPollDelay, type PollSchedule } from '../../wan/poll';
import { parseServiceTime } from '../../wan/time';
import type { TaskRecord } from '../record';
import { cellOf } from './history';
import type { EndPredictor, EndWindow } from './predictor';

/** Inside the window: the end is noticed 0.75 s late on average. */
export const DENSE_INTERVAL_MS = 1500;
/** Before the window the task is only checked now and then, so an early FAILED is not left for minutes. */
export const SPARSE_MAX_MS = 30_000;
/** The first check after the create: confirms the task and catches an input refused at once. */
const FIRST_CHECK_MS = 2000;
/** A window so wide that dense polling would cost more than this many polls spreads them out. */
export const MAX_WINDOW_POLLS = 30;
/** The adaptive schedule's cadence while a task is expected: a wide window is not polled slower (only the shared budget stretches it). */
const ADAPTIVE_CADENCE_MS = 5000;
/**
 * The account answers 20 task queries per second. Dense polling of all tasks together averages 6: jittered
 * polls bunch up, and the first and sparse checks come on top, so the peak second stays under 20 (the bench
 * and the unit tests replay 100 tasks at once).
 */
export const ACCOUNT_QUERIES_PER_SECOND = 20;
export const DENSE_QUERIES_PER_SECOND = 6;

/** The dense interval when `tasks` tasks may be in their windows at once: together within the budget. */
export function denseIntervalMs(tasks: number, budgetPerSecond = DENSE_QUERIES_PER_SECOND): number {
  return Math.max(DENSE_INTERVAL_MS, (Math.max(1, tasks) * 1000) / budgetPerSecond);
}

/**
 * One task's schedule around its predicted end window (ages since submit); the adaptive schedule when
 * there is no prediction (cold start). `denseMs` comes from denseIntervalMs for the tasks polled at once.
 */
export function windowSchedule(window: Pick<EndWindow, 'loMs' | 'hiMs'> | undefined, denseMs = DENSE_INTERVAL_MS): PollSchedule {
  if (!window) return ADAPTIVE_SCHEDULE;
  const { loMs, hiMs } = window;
  const dense = Math.max(denseMs, Math.min((hiMs - loMs) / MAX_WINDOW_POLLS, ADAPTIVE_CADENCE_MS));
  return {
    name: 'learned',
    jitter: 0.1,
    baseDelayMs: (polls, age) => {
      // Overdue (the prediction missed): steps that grow with the lateness, from dense up to the adaptive
      // cadence, so a task just past its window is not left for adaptive's 10 s steps of a young task.
      if (age >= hiMs) return Math.max(denseMs, Math.min(ADAPTIVE_SCHEDULE.baseDelayMs(polls, age), (age - hiMs) / 2));
      const left = loMs - age;
      if (left <= dense) return dense;
      if (polls <= 1 && age < FIRST_CHECK_MS) return Math.min(FIRST_CHECK_MS, left);
      return left / Math.ceil(left / SPARSE_MAX_MS); // even steps that land on the window's start
    },
  };
}

/** One task for simulateAccount: submitted and ended at these virtual times. */
export interface SimulatedTask {
  submitMs: number;
  endMs: number;
  /** Its schedule, given how many tasks are being polled at that moment. */
  schedule(activeTasks: number): PollSchedule;
}

export interface AccountReplay {
  /** Per task: queries made and the delay from its end to the poll that saw it. */
  tasks: { queries: number; lateMs: number }[];
  /** The most queries started in any one-second span, across all tasks. */
  peakPerSecond: number;
}

/**
 * Replays many tasks of one account on a virtual clock, each polled at its submit and then by its
 * schedule (every answer arrives at once), and reports the account's peak query rate.
 */
export function simulateAccount(tasks: readonly SimulatedTask[], random: () => number): AccountReplay {
  const next = tasks.map((t) => t.submitMs);
  const polls = tasks.map(() => 0);
  const done: ({ queries: number; lateMs: number } | undefined)[] = tasks.map(() => undefined);
  const times: number[] = [];
  for (;;) {
    let i = -1;
    for (let j = 0; j < tasks.length; j++) if (!done[j] && (i < 0 || next[j]! < next[i]!)) i = j;
    if (i < 0) break;
    const t = tasks[i]!;
    const now = next[i]!;
    times.push(now);
    polls[i]! += 1;
    if (now >= t.endMs) {
      done[i] = { queries: polls[i]!, lateMs: now - t.endMs };
      continue;
    }
    const active = tasks.filter((u, j) => !done[j] && u.submitMs <= now).length;
    next[i] = now + Math.max(1, nextPollDelay({ polls: polls[i]!, taskAgeMs: now - t.submitMs, failures: 0 }, random, t.schedule(active)));
  }
  times.sort((a, b) => a - b);
  let peak = 0;
  for (let a = 0, b = 0; b < times.length; b++) {
    while (times[b]! - times[a]! >= 1000) a++;
    peak = Math.max(peak, b - a + 1);
  }
  return { tasks: done.map((d) => d!), peakPerSecond: peak };
}

/**
 * A record's predicted end window, in the ages the engine reads on our clock since the service's
 * submit_time. The window itself is in the service's own durations; `sentAt` (our clock, just before
 * the submit) tells how far the two clocks disagree, so a skewed clock does not move the window.
 */
export function recordWindow(predictor: EndPredictor, r: TaskRecord): EndWindow | undefined {
  const submit = parseServiceTime(r.submitTime)?.getTime();
  const started = parseServiceTime(r.scheduledTime)?.getTime();
  const queued = r.state === 'running' && submit !== undefined && started !== undefined && started >= submit ? started - submit : undefined;
  const window = predictor.window(cellOf(r.request), queued);
  if (!window || submit === undefined || r.sentAt === undefined) return window;
  const skew = submit - r.sentAt;
  if (Math.abs(skew) > MAX_SKEW_MS) return window;
  return { ...window, loMs: Math.max(0, window.loMs - skew), hiMs: window.hiMs - skew };
}

/** Beyond this the two times are not the same moment on two clocks (a record from elsewhere): left as they are. */
const MAX_SKEW_MS = 60 * 60 * 1000;

/**
 * The window a rehearsal's task is polled in while nothing is learned yet: the emulator runs on this machine and
 * costs nothing, so its first minute is polled densely (its default task lasts about 8 s plus the render). On the
 * adaptive schedule a user's very first video, a rehearsal, was seen up to 10 s after it ended.
 */
export const REHEARSAL_COLD_WINDOW = { loMs: 0, hiMs: MAX_WINDOW_POLLS * DENSE_INTERVAL_MS } as const;

/**
 * The learned schedule for a record the engine polls, among `polled` tasks being polled at once; `cold` is the
 * window used when the history predicts nothing (else the adaptive schedule).
 */
export function recordSchedule(predictor: EndPredictor, r: TaskRecord, polled: number, cold?: Pick<EndWindow, 'loMs' | 'hiMs'>): PollSchedule {
  return windowSchedule(recordWindow(predictor, r) ?? cold, denseIntervalMs(polled));
}
