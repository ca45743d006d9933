// The engine's timings, named once: each is a promise to the user (how soon, how often, how long).

/** How long an interrupted create is looked up in the task list before it is called unresolved. */
export const LOOKUP_WINDOW_MS = 120_000;
/** A lookup that could not run (no connection, the list or a candidate unreadable) runs again after this. */
export const LOOKUP_RETRY_MS = 15_000;
/** Slack around a create's time when its task is searched in the list: the two clocks may disagree. */
export const LIST_SLACK_MS = 60_000;
/** The service forgets tasks after a day: the account's tasks are read this far back. */
export const SERVICE_MEMORY_MS = 24 * 3600_000;
/** A job that failed unexpectedly waits this long before it runs again, so a bug can never spin. */
export const JOB_BACKOFF_MS = 15_000;
/** Polls started in any second: half the account's 20, leaving room for other windows and tools. */
export const QUERIES_PER_SECOND = 10;
export const SAVE_ATTEMPTS = 5;
/** Candidates of a lookup checked one by one at the most. */
export const MAX_LOOKUP_CANDIDATES = 20;
/** A result link refused this long before its documented expiry is a glitch to retry, not an expiry. */
export const EXPIRY_MARGIN_MS = 10 * 60 * 1000;
/** A failed save is announced as expiring once its link has less than this to live. */
export const WARN_BEFORE_EXPIRY_MS = 60 * 60 * 1000;
/** The learned schedule's history is read again after this, so new endings teach it. */
export const PREDICTOR_TTL_MS = 30_000;
/** A download's temporary file untouched this long, and no task's to resume, is left over from a killed run. */
export const STALE_PART_MS = 10 * 60 * 1000;

/** The lookup window a deployment chose (tests shorten it), or the default. */
export function lookupWindow(chosen: number | undefined): number {
  return chosen ?? LOOKUP_WINDOW_MS;
}
