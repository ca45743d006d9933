// Backoff with full jitter that honours Retry-After, and which failures deserve another try.
import { WanApiError, WanNetworkError } from './errors';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is returned instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 120_000 };

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter: a random delay up to the exponential ceiling, so clients don't retry in lockstep. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(random() * ceiling);
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** For reads (polls, downloads, policy, cancel): throttling, server errors and lost connections. */
export function isTransient(error: unknown): boolean {
  if (error instanceof WanNetworkError) return error.retryable;
  return error instanceof WanApiError && TRANSIENT_STATUS.has(error.httpStatus);
}

/** For a create: only when the request provably never reached the service. */
export function isSafeToRepeatCreate(error: unknown): boolean {
  return error instanceof WanNetworkError && !error.mayHaveReachedService && error.retryable;
}

export interface RetryOptions {
  policy: RetryPolicy;
  shouldRetry: (error: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  signal?: AbortSignal;
  random?: () => number;
}

/** setTimeout's largest delay: a longer one fires after 1 ms (Node only warns), so never ask for more. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay fit for setTimeout: whole milliseconds, 0..MAX_TIMER_MS (NaN counts as 0). */
export function clampDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.round(ms), MAX_TIMER_MS);
}

/** The abort's reason as an Error: callers test `name === 'AbortError'` and show its message. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, clampDelay(ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetry<T>(run: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !options.shouldRetry(error) || options.signal?.aborted) throw error;
      const retryAfter = error instanceof WanApiError ? error.retryAfterMs : undefined;
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) throw error;
      const delayMs = retryAfter ?? backoffDelay(attempt - 1, policy, options.random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}
