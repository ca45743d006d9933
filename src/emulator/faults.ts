// One-shot faults that tests ask for, so clients can prove they survive 429s, 5xx, dropped
// connections, slow or truncated downloads, and FAILED or UNKNOWN tasks.
import { z } from 'zod';

export const FAULT_ROUTES = ['create', 'task', 'cancel', 'list', 'policy', 'upload', 'download'] as const;
export type FaultRoute = (typeof FAULT_ROUTES)[number];

const times = z.number().int().min(1).max(1000).optional();

export const HttpFaultSchema = z.strictObject({
  route: z.enum(FAULT_ROUTES),
  /**
   * status: answer with `status` (default 500) and an error body; drop: close the connection without an
   * answer; slow: delay the answer by `delayMs` (JSON routes) or stream at `bytesPerSecond` (download);
   * truncate: promise the whole body (Content-Length) but close after `afterBytes` (default half).
   */
  kind: z.enum(['status', 'drop', 'slow', 'truncate']),
  status: z.number().int().min(400).max(599).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  retryAfterSeconds: z.number().min(0).optional(),
  bytesPerSecond: z.number().int().min(1).optional(),
  delayMs: z.number().min(0).max(120_000).optional(),
  afterBytes: z.number().int().min(0).optional(),
  /** drop only: 'before' (default) the request is handled, or 'after' it was (a create then made a task). */
  phase: z.enum(['before', 'after']).optional(),
  /** How many matching requests it applies to (default 1). */
  times,
});
export type HttpFault = z.infer<typeof HttpFaultSchema>;

export const OutcomeFaultSchema = z.strictObject({
  route: z.literal('outcome'),
  /** fail: the next created task ends FAILED with code/message; unknown: it answers UNKNOWN. */
  kind: z.enum(['fail', 'unknown']),
  code: z.string().optional(),
  message: z.string().optional(),
  times,
});
export type OutcomeFault = z.infer<typeof OutcomeFaultSchema>;

export const FaultSchema = z.union([OutcomeFaultSchema, HttpFaultSchema]);
export type Fault = z.infer<typeof FaultSchema>;
export const FaultListSchema = z.union([z.array(FaultSchema), FaultSchema.transform((f) => [f])]);

interface Armed<T> {
  fault: T;
  left: number;
}

export class FaultInjector {
  private http: Armed<HttpFault>[] = [];
  private outcomes: Armed<OutcomeFault>[] = [];
  /** Every fault applied so far, in order (for assertions). */
  readonly applied: { route: string; kind: string; at: number }[] = [];

  /** Arms faults (validated); returns how many are armed now. */
  add(faults: Fault | readonly Fault[]): number {
    const list = FaultListSchema.parse(faults);
    for (const f of list) {
      if (f.route === 'outcome') this.outcomes.push({ fault: f, left: f.times ?? 1 });
      else this.http.push({ fault: f, left: f.times ?? 1 });
    }
    return this.pending().length;
  }

  clear(): void {
    this.http = [];
    this.outcomes = [];
  }

  /** Faults still armed. */
  pending(): Fault[] {
    return [...this.http.map((a) => a.fault), ...this.outcomes.map((a) => a.fault)];
  }

  /** Consumes the first armed fault for `route`, if any. */
  take(route: FaultRoute): HttpFault | undefined {
    return this.consume(this.http, (f) => f.route === route);
  }

  takeOutcome(): OutcomeFault | undefined {
    return this.consume(this.outcomes, () => true);
  }

  private consume<T extends Fault>(list: Armed<T>[], match: (f: T) => boolean): T | undefined {
    const i = list.findIndex((a) => match(a.fault));
    if (i < 0) return undefined;
    const armed = list[i]!;
    armed.left -= 1;
    if (armed.left <= 0) list.splice(i, 1);
    this.applied.push({ route: armed.fault.route, kind: armed.fault.kind, at: Date.now() });
    return armed.fault;
  }
}

/** The error code and message a `status` fault answers with when it names none. */
export function defaultFaultError(status: number): { code: string; message: string } {
  if (status === 429) return { code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' };
  if (status === 503) return { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable, please try again later.' };
  if (status >= 500) return { code: 'InternalError', message: 'An internal error has occured, please try again later or contact service support.' };
  if (status === 401) return { code: 'InvalidApiKey', message: 'Invalid API-key provided.' };
  if (status === 403) return { code: 'AccessDenied', message: 'Access denied.' };
  return { code: 'InvalidParameter', message: 'Emulated fault.' };
}
