// What the user has spent: billed seconds per endpoint for today, this month and all time, their price when
// the user set one, and the caps a new request is held to. The service bills per second of output and says
// how many in a task's `usage.duration`; a task still on its way counts by its request, so a cap sees what
// is already committed. Rehearsal (emulator) tasks never count. Days and months are the user's local ones.
// No vscode import: the extension and the CLI both read spend here.
import { DURATION_DEFAULT_S, RESOLUTIONS, RESOLUTION_DEFAULT } from '../wan/limits';
import { billedSeconds } from '../wan/sizing';
import { accountKey } from './queue';
import type { EndpointRef, TaskRecord, TaskRequest, TaskState } from './record';

export type Resolution = (typeof RESOLUTIONS)[number];
export const PERIODS = ['today', 'month', 'all'] as const;
export type Period = (typeof PERIODS)[number];

/**
 * Tasks that may still be billed and have no usage yet: counted by their request. An unresolved create may
 * have made a task, so it counts until the user decides.
 */
const ON_ITS_WAY: ReadonlySet<TaskState> = new Set(['queued', 'creating', 'pending', 'running', 'unresolved']);

export function isRehearsal(endpoint: EndpointRef): boolean {
  return endpoint.kind === 'emulator';
}

/** What a request will be billed, in seconds of output (a continuation is billed its whole duration). */
export function requestSeconds(request: TaskRequest): number {
  return billedSeconds(request.duration ?? DURATION_DEFAULT_S);
}

export function resolutionOf(request: TaskRequest): Resolution {
  return request.resolution ?? RESOLUTION_DEFAULT;
}

/**
 * The seconds a record counts for: its usage when the service reported one; its request while it may
 * still be billed (`expected`); a succeeded task without usage by its request too (it was billed). A
 * failed or canceled task without usage costs nothing.
 */
export function recordSeconds(r: TaskRecord): { seconds: number; expected: boolean } {
  if (isRehearsal(r.endpoint)) return { seconds: 0, expected: false };
  const used = r.usage?.duration;
  if (typeof used === 'number' && Number.isFinite(used) && used >= 0) return { seconds: used, expected: false };
  if (ON_ITS_WAY.has(r.state)) return { seconds: requestSeconds(r.request), expected: true };
  if (r.state === 'succeeded') return { seconds: requestSeconds(r.request), expected: false };
  return { seconds: 0, expected: false };
}

/** Seconds in one period: all of them, those still expected (tasks on their way), and per resolution. */
export interface Tally {
  seconds: number;
  expected: number;
  byResolution: Record<Resolution, number>;
}

export function emptyTally(): Tally {
  return { seconds: 0, expected: 0, byResolution: { '720P': 0, '1080P': 0 } };
}

function add(t: Tally, seconds: number, expected: boolean, resolution: Resolution): void {
  t.seconds += seconds;
  if (expected) t.expected += seconds;
  t.byResolution[resolution] += seconds;
}

/** Local midnight starting the day of `now`, and the first of its month. */
export function periodStarts(now: number): Record<Period, number> {
  const d = new Date(now);
  return {
    today: new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime(),
    month: new Date(d.getFullYear(), d.getMonth(), 1).getTime(),
    all: Number.NEGATIVE_INFINITY,
  };
}

/**
 * A task counts on the day it was requested (for a task added by ID: when the service got it). That moment
 * never moves, so the figure a cap checked and the figure shown later agree.
 */
export function countedAt(r: TaskRecord): number {
  return r.requestedAt;
}


export interface EndpointSpend {
  key: string;
  endpoint: EndpointRef;
  periods: Record<Period, Tally>;
}

export interface Spend {
  /** Paid endpoints with any task, the most spent (all time) first. */
  endpoints: EndpointSpend[];
  total: Record<Period, Tally>;
}

function emptyPeriods(): Record<Period, Tally> {
  return { today: emptyTally(), month: emptyTally(), all: emptyTally() };
}

export function spendOf(records: readonly TaskRecord[], now: number): Spend {
  const starts = periodStarts(now);
  const byKey = new Map<string, EndpointSpend>();
  const total = emptyPeriods();
  for (const r of records) {
    if (isRehearsal(r.endpoint)) continue;
    const { seconds, expected } = recordSeconds(r);
    // One line per account: a region's tasks and those rebuilt from the records beside its videos (which know its URL only) together.
    const key = accountKey(r.endpoint);
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { key, endpoint: r.endpoint, periods: emptyPeriods() }));
    const at = countedAt(r);
    const resolution = resolutionOf(r.request);
    for (const p of PERIODS) {
      if (at < starts[p]) continue;
      add(entry.periods[p], seconds, expected, resolution);
      add(total[p], seconds, expected, resolution);
    }
  }
  const endpoints = [...byKey.values()].sort((a, b) => b.periods.all.seconds - a.periods.all.seconds || a.key.localeCompare(b.key));
  return { endpoints, total };
}

/** Price per second of output, per resolution, in the user's currency. */
export type Prices = Partial<Record<Resolution, number>>;

/** The tally's cost, or undefined when a resolution it holds seconds of has no price. */
export function costOf(t: Tally, prices: Prices): number | undefined {
  let cost = 0;
  for (const res of RESOLUTIONS) {
    const seconds = t.byResolution[res];
    if (!seconds) continue;
    const price = prices[res];
    if (price === undefined || !Number.isFinite(price) || price < 0) return undefined;
    cost += seconds * price;
  }
  return cost;
}

export function hasPrices(prices: Prices): boolean {
  return RESOLUTIONS.some((r) => typeof prices[r] === 'number');
}

/** Optional caps in billed seconds over every paid endpoint (money is spent from one pocket). */
export interface Caps {
  dailySeconds?: number;
  monthlySeconds?: number;
}

export interface CapExceeded {
  period: 'today' | 'month';
  cap: number;
  /** Billed and committed (tasks on their way, by request) in the period before this request. */
  spent: number;
  /** Of `spent`, what tasks on their way account for. */
  onItsWay: number;
  /** What the request (every task of a batch) would add. */
  asked: number;
}

/**
 * The caps `requests` would break if sent to `endpoint` now: empty when they fit (reaching a cap exactly
 * fits), when they ask nothing, or for a rehearsal. Every request of a batch counts; `held` seconds (a whole
 * already allowed whose parts are not queued yet, e.g. a storyboard's later shots) count as on their way.
 */
export function capsExceeded(records: readonly TaskRecord[], requests: readonly TaskRequest[], endpoint: EndpointRef, caps: Caps, now: number, held = 0): CapExceeded[] {
  if (isRehearsal(endpoint)) return [];
  const asked = requests.reduce((sum, q) => sum + requestSeconds(q), 0);
  if (asked === 0) return [];
  const { total } = spendOf(records, now);
  const out: CapExceeded[] = [];
  const check = (period: 'today' | 'month', cap: number | undefined) => {
    if (cap === undefined || !Number.isFinite(cap) || cap < 0) return;
    const spent = total[period].seconds + held;
    if (spent + asked > cap) out.push({ period, cap, spent, onItsWay: total[period].expected + held, asked });
  };
  check('today', caps.dailySeconds);
  check('month', caps.monthlySeconds);
  return out;
}
