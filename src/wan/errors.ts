// The error kinds of the protocol core. Messages never contain the API key.

/** Input refused locally: nothing was sent. `field` is the request path (e.g. `parameters.duration`). */
export class WanValidationError extends Error {
  override readonly name = 'WanValidationError';
  constructor(
    readonly issues: readonly { field: string; message: string }[],
  ) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  }
  static one(field: string, message: string): WanValidationError {
    return new WanValidationError([{ field, message }]);
  }
}

/** The service answered with an error body (`{code, message, request_id}`) or an unexpected status. */
export class WanApiError extends Error {
  override readonly name = 'WanApiError';
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    readonly serviceMessage: string,
    readonly requestId?: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${code} (HTTP ${httpStatus}): ${serviceMessage}${requestId ? ` [request ${requestId}]` : ''}`);
  }
}

/** The request never got a usable answer (connection refused, reset, timeout, malformed body). */
export class WanNetworkError extends Error {
  override readonly name = 'WanNetworkError';
  constructor(
    message: string,
    /** true when the request may have reached the service (so a create must not be repeated). */
    readonly mayHaveReachedService: boolean,
    readonly errorCode?: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
  /** false for failures another try cannot fix, such as an untrusted TLS certificate. */
  readonly retryable: boolean;
}

/** A create whose outcome is unknown: the service may have created (and will bill) a task. */
export class WanAmbiguousCreateError extends Error {
  override readonly name = 'WanAmbiguousCreateError';
  constructor(override readonly cause: Error) {
    super(
      `The create request may have reached the service, but its outcome is unknown (${cause.message}). ` +
        'It was not retried, so no duplicate task can be billed. Check your recent tasks before trying again.',
    );
  }
}
