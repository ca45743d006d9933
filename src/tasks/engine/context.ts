// What every job gets from the engine: the store, the deps, the clock, a connection, and the few shared
// decisions (the next poll's delay, telling the user once). Jobs hold no state of their own beyond it.
import type { TaskRecord } from '../record';
import type { SavedVideoIndex } from '../sidecar';
import type { TaskStore } from '../store';
import type { EngineConnection } from './connection';
import type { EngineDeps, EngineEvents } from './types';

export interface JobContext {
  readonly store: TaskStore;
  readonly deps: EngineDeps;
  readonly events: EngineEvents;
  /** Aborted when the engine stops: a job in flight gives up without calling anything failed. */
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly random: () => number;
  withConnection<T>(endpoint: TaskRecord['endpoint'] | undefined, fn: (conn: EngineConnection) => Promise<T>, onConnectFailed?: (error: unknown) => Promise<T>): Promise<T>;
  /** The records beside saved videos, read once per file (a sync looks up many tasks in one folder). */
  readonly savedVideos: SavedVideoIndex;
  /** Runs the loop soon (after a change a job or an action made). */
  readonly wake: () => void;
  /** The schedule's next delay for a task of this age; after failures, the outage backoff. */
  pollDelay(t: TaskRecord, failures: number, retryAfterMs?: number): number;
}

/** Tells the user once, from the one window that holds the task. */
export async function announce(ctx: JobContext, r: TaskRecord): Promise<void> {
  if (r.announced) return;
  const marked = await ctx.store.patch(r.id, (t) => (t.announced = true));
  if (marked) ctx.events.ended?.(marked);
}
