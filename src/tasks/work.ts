// Whether a task has work left, from the fields that say so alone: no schema library, so the activation
// shell can look at the task list at start-up without loading the rest of the extension.

/**
 * Local life of a task. `queued`: waiting for a slot, nothing sent. `creating`: the create is (or may be)
 * on its way; a record left in this state by a closed window is looked up, never re-sent. `unresolved`:
 * looked up and not found, the user decides. The rest mirror the service's statuses.
 */
export const TASK_STATES = ['queued', 'creating', 'unresolved', 'pending', 'running', 'succeeded', 'failed', 'canceled', 'unknown'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

export const ACTIVE_STATES: ReadonlySet<TaskStateName> = new Set(['queued', 'creating', 'pending', 'running']);

/** The fields of a task record that decide whether work is left. */
export interface WorkFields {
  state: string;
  save?: { state: string; pendingRecord?: unknown } | null;
}

/** True while something is left to do for the task: a create, a poll or a download. */
export function needsWork(r: WorkFields): boolean {
  return (
    ACTIVE_STATES.has(r.state as TaskStateName) ||
    (r.state === 'succeeded' && (r.save?.state === 'waiting' || r.save?.state === 'saving' || r.save?.state === 'failed' || r.save?.pendingRecord !== undefined))
  );
}
