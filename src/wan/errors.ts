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

/** The client is not set up to send anything (no key, or a key no HTTP header can carry). Nothing was sent. */
export class WanConfigError extends Error {
  override readonly name = 'WanConfigError';
  constructor(
    /** NoApiKey or InvalidApiKeyFormat. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why `key` cannot be used, in words that never repeat the key; undefined when it can. */
export function apiKeyProblem(key: string): { code: string; message: string } | undefined {
  const k = key.trim();
  if (!k) return { code: 'NoApiKey', message: 'an API key is required' };
  // Keys are printable ASCII. Anything else would make an invalid Authorization header, or a different one.
  if (!/^[\x21-\x7e]+$/.test(k)) {
    return {
      code: 'InvalidApiKeyFormat',
      message: 'the API key contains a line break, a space or another character an HTTP header cannot carry; set it again, copied without it',
    };
  }
  return undefined;
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

/** The storage host refused a temporary upload because its policy (valid about 300 s) had expired. */
export function isUploadPolicyExpired(error: unknown): boolean {
  return error instanceof WanApiError && error.httpStatus === 403 && /policy expired/i.test(error.serviceMessage);
}

/** The request never got a usable answer (connection refused, reset, timeout, malformed body). */
export class WanNetworkError extends Error {
  override readonly name = 'WanNetworkError';
  constructor(
    message: string,
    /** true when the request may have reached the service (so a create must not be repeated). */
    readonly mayHaveReachedService: boolean,
    readonly errorCode?: string,
    options?: { cause?: unknown; retryable?: boolean; url?: string },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
    this.url = options?.url;
  }
  /** false for failures another try cannot fix, such as an untrusted TLS certificate. */
  readonly retryable: boolean;
  /** The origin of the server that failed, when known (never a path or query). */
  readonly url: string | undefined;
}

/**
 * A local file could not be written or renamed (disk full, read-only, no permission, quota, size
 * limit). Another download attempt cannot fix it, so it is never retried as a network error.
 */
export class WanLocalFileError extends Error {
  override readonly name = 'WanLocalFileError';
  constructor(
    /** The system error code: ENOSPC, EACCES, EROFS, EDQUOT, EFBIG, … */
    readonly errorCode: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`Could not write ${path}: ${errorCode}${LOCAL_REASONS[errorCode] ? ` (${LOCAL_REASONS[errorCode]})` : ''}`, options);
  }
}

const LOCAL_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is larger than this system allows',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EIO: 'an input/output error on the device',
  EISDIR: 'a folder is in the way',
  ENOTDIR: 'a file is in the way of the folder',
  ENOENT: 'the folder does not exist, or was removed',
  EMFILE: 'too many open files',
};

/** System error codes that mean the local file system refused, not the network. */
export function isLocalFileErrorCode(code: unknown): code is string {
  return typeof code === 'string' && code in LOCAL_REASONS;
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
