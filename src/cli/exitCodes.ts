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
  /** The task ended FAILED, CANCELED or UNKNOWN. */
  taskNotSucceeded: 5,
  /** Nothing is lost: a network failure before any task existed, or any failure while a task exists (resume with `wait`). */
  networkError: 6,
  /** The create may or may not have reached the service: check before trying again. */
  createOutcomeUnknown: 7,
  /** The task succeeded but the video could not be saved (resume with `wait` within 24 h). */
  downloadFailed: 8,
  interrupted: 130,
} as const;
