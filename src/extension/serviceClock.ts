// The service's clock, as its answers tell it (the HTTP Date header). Expiry is the service's business:
// a result link dies 24 h after the task ended by the service's clock, not by this machine's. Following
// it also lets the emulator's clock jumps (POST /__emulator/clock) rehearse an expiry. No vscode import.
import type { Dispatcher } from 'undici';

/** Offsets smaller than this are noise (the header has whole seconds, plus latency). */
const NOISE_MS = 5000;

export class ServiceClock {
  private readonly offsets = new Map<string, number>();

  constructor(private readonly realNow: () => number = Date.now) {}

  /** Notes the Date header of an answer from `origin` received at `receivedAt` (real time). */
  observe(origin: string, dateHeader: string | undefined, receivedAt = this.realNow()): void {
    const date = dateHeader ? Date.parse(dateHeader) : Number.NaN;
    if (!Number.isFinite(date)) return;
    const offset = date - receivedAt;
    this.offsets.set(origin, Math.abs(offset) < NOISE_MS ? 0 : offset);
  }

  /** How far the service at `origin` is ahead of this machine (0 when unknown). */
  offset(origin: string | undefined): number {
    return origin === undefined ? 0 : (this.offsets.get(origin) ?? 0);
  }

  now(origin: string | undefined): number {
    return this.realNow() + this.offset(origin);
  }
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** An undici interceptor that shows every answer's Date header to `clock`. */
export function observeServiceClock(clock: ServiceClock): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const origin = originOf(String(opts.origin ?? ''));
    return dispatch(opts, {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart: (controller, statusCode, headers, statusMessage) => {
        const date = headers.date;
        clock.observe(origin, Array.isArray(date) ? date[0] : date);
        return handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
      },
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
      onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
    });
  };
}
