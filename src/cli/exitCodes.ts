// Exit codes scripts can rely on. Documented in README.md.
export const EXIT = {
  ok: 0,
  /** Internal error: a bug. */
  unexpected: 1,
  /** Bad arguments or invalid input: nothing was sent. */
  invalidInput: 2,
  /** No API key or endpoint configured: nothing was sent. */
  notConfigured: 3,
  /** The service refused the request (for example an invalid key, throttling, a bad parameter). */
  apiError: 4,
  /** The task ended FAILED, CANCELED or UNKNOWN. */
  taskNotSucceeded: 5,
  /** The network failed in a way that lost nothing (no task was created, or polling can be resumed). */
  networkError: 6,
  /** The create may or may not have reached the service: check before trying again. */
  createOutcomeUnknown: 7,
  /** The task succeeded but the video could not be saved. */
  downloadFailed: 8,
  interrupted: 130,
} as const;
