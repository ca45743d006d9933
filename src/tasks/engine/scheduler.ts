// Which job is due for which task, and when to look again: the queue's admission, the poll rate limit
// and the backoff of a job that failed. It runs nothing itself: the engine's loop launches what it picks,
// so a new kind of work (a storyboard's shot, a learned schedule) is a rule here and a job module beside it.
import { admit, type AccountLimits } from '../queue';
import type { TaskRecord } from '../record';
import { JOB_BACKOFF_MS, QUERIES_PER_SECOND } from './constants';

/** The jobs, one module each: create.ts, lookup.ts, poll.ts, save.ts (`record` is save.ts's writeRecord). */
export type JobKind = 'create' | 'lookup' | 'poll' | 'save' | 'record';

export interface DueJob {
  id: string;
  kind: JobKind;
}

/** What the scheduler sees of the task list: every record, and which of them this window works on. */
export interface Holdings {
  readonly all: readonly TaskRecord[];
  /** The records this window holds a lease on (only those are worked on here). */
  holds(r: TaskRecord): boolean;
  /** The records a job runs for now (none is started twice). */
  busy(id: string): boolean;
}

/** The wait after `failures` steps in a row could not write the task list: 1 s doubling, at most 30 s. */
export function storageBackoffMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** (failures - 1));
}

export class Scheduler {
  private queryTimes: number[] = [];
  private readonly backoff = new Map<string, number>();

  constructor(private readonly limits: AccountLimits) {}

  /**
   * The jobs due at `now`, in the order to start them: the creates the queue admits (oldest first), then
   * each held task's lookup, poll, save or record. Polls are rate-limited: one picked counts as started.
   */
  due(h: Holdings, now: number): DueJob[] {
    const picked: DueJob[] = [];
    const taken = new Set<string>();
    const free = (r: TaskRecord) => h.holds(r) && !h.busy(r.id) && !taken.has(r.id) && !this.backingOff(r.id, now);
    const pick = (id: string, kind: JobKind) => {
      picked.push({ id, kind });
      taken.add(id);
    };
    for (const r of admit(h.all, now, this.limits).start) if (free(r)) pick(r.id, 'create');
    for (const r of h.all) {
      if (!free(r)) continue;
      if (r.state === 'creating' && (r.nextPollAt ?? 0) <= now) pick(r.id, 'lookup');
      else if ((r.state === 'pending' || r.state === 'running') && (r.nextPollAt ?? 0) <= now && this.takeQuery(now)) pick(r.id, 'poll');
      else if (r.state === 'succeeded') {
        if ((r.save?.state === 'waiting' || r.save?.state === 'saving') && (r.save.notBefore ?? 0) <= now) pick(r.id, 'save');
        else if (r.save?.state === 'saved' && r.save.pendingRecord && (r.save.notBefore ?? 0) <= now) pick(r.id, 'record');
      }
    }
    return picked;
  }

  /** A job that failed unexpectedly waits JOB_BACKOFF_MS before it runs again, so a bug can never spin. */
  failed(id: string, now: number): void {
    this.backoff.set(id, now + JOB_BACKOFF_MS);
  }

  /** Whether the task's jobs wait after a failure (an expired wait is forgotten). */
  backingOff(id: string, now: number): boolean {
    const until = this.backoff.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.backoff.delete(id);
    return false;
  }

  /**
   * How long until something is due: the earliest of each held idle task's next step, the queue's next
   * admission and the end of a backoff; at the latest `idleMs` (lease renewal), at the soonest 50 ms.
   */
  nextWakeMs(h: Holdings, now: number, idleMs: number): number {
    let at = now + idleMs;
    for (const r of h.all) {
      if (!h.holds(r) || h.busy(r.id)) continue;
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
    const wakeAt = admit(h.all, now, this.limits).wakeAt;
    if (wakeAt !== undefined) at = Math.min(at, wakeAt);
    for (const until of this.backoff.values()) if (until > now) at = Math.min(at, until);
    return Math.max(50, at - now);
  }

  /** At most QUERIES_PER_SECOND polls start in any second. */
  private takeQuery(now: number): boolean {
    this.queryTimes = this.queryTimes.filter((t) => t > now - 1000);
    if (this.queryTimes.length >= QUERIES_PER_SECOND) return false;
    this.queryTimes.push(now);
    return true;
  }
}
