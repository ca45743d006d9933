// Exit codes scripts can rely on. Documented in README.md.
export const EXIT = {
  ok: 0,
  /** Internal error: a bug. */
  unexpected: 1,
  /** Bad arguments or invalid input: nothing was sent. */
  invalidInput: 2,
  /** No usable API key (missing, or with characters no HTTP header can carry): nothing was sent. */
  notConfigured: 3,
  /** The service refused the request (an invalid key, throttling, a bad parameter), before any task existed. */
  apiError: 4,
  /** The task ended FAILED, CANCELED or UNKNOWN: nothing to resume. */
  taskNotSucceeded: 5,
  /** Nothing is lost: a network failure before any task existed, or any failure while a task exists (resume with `wait`). */
  networkError: 6,
  /** The create may or may not have reached the service: check before trying again. */
  createOutcomeUnknown: 7,
  /** The task succeeded but the video could not be saved (resume with `wait` within 24 h). */
  downloadFailed: 8,
  /** Stopped by a signal (128 + its number, as shells report it): Ctrl-C (SIGINT) 130, SIGTERM 143, SIGHUP 129. */
  interrupted: 130,
  terminated: 143,
  hungUp: 129,
} as const;

/** The signals a run stops for as it does for Ctrl-C, with their exit codes. */
export const STOP_SIGNALS = { SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated, SIGHUP: EXIT.hungUp } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;
