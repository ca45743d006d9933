// The local queue: which waiting requests may be created now without passing the account's limits
// (for wan2.7-i2v: 5 tasks processing at once, 5 creates per second, across all the account's keys).
import { SERVICE_ACTIVE_STATES, type EndpointRef, type TaskRecord } from './record';

export interface AccountLimits {
  maxActive: number;
  maxCreatesPerSecond: number;
}

export const WAN_I2V_LIMITS: AccountLimits = { maxActive: 5, maxCreatesPerSecond: 5 };

/**
 * Tasks on the same endpoint share an account (one key is configured at a time): the emulator is one, whatever
 * its port; otherwise the address decides, not the kind (a region and a custom endpoint naming its URL are one
 * service, and records rebuilt from the files beside the videos only know the URL).
 */
export function accountKey(e: EndpointRef): string {
  return e.kind === 'emulator' ? 'emulator' : e.baseUrl.replace(/\/+$/, '');
}

export function sameAccount(a: EndpointRef, b: EndpointRef): boolean {
  return accountKey(a) === accountKey(b);
}

export interface Admission {
  /** Queued records to create now, oldest request first. */
  start: TaskRecord[];
  /** When to look again (epoch ms), if anything still waits and could start by time alone. */
  wakeAt?: number;
}

/** Decides which queued records may be created now. Pure: everything it needs is in the records. */
export function admit(records: readonly TaskRecord[], now: number, limits: AccountLimits = WAN_I2V_LIMITS): Admission {
  const queued = records.filter((r) => r.state === 'queued').sort((a, b) => a.requestedAt - b.requestedAt);
  const start: TaskRecord[] = [];
  let wakeAt: number | undefined;
  const later = (t: number) => (wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t));
  // Throttling is account-wide: while an older request backs off, newer ones on that account wait too.
  const backingOff: TaskRecord[] = [];
  for (const r of queued) {
    if (backingOff.some((b) => sameAccount(b.endpoint, r.endpoint))) continue;
    if (r.notBefore !== undefined && r.notBefore > now) {
      later(r.notBefore);
      backingOff.push(r);
      continue;
    }
    const peers = records.filter((p) => sameAccount(p.endpoint, r.endpoint));
    const active = peers.filter((p) => SERVICE_ACTIVE_STATES.has(p.state)).length + start.filter((s) => sameAccount(s.endpoint, r.endpoint)).length;
    if (active >= limits.maxActive) continue; // a slot frees when a task ends; the poller wakes us then
    // A send stamped more than a second ahead of `now` is another clock's (records stamped on the service's
    // clock, read by a window whose clock has not met the service yet): not counted, or it would hold this
    // request until that time came (minutes, in a rehearsal whose clock was moved on). At worst the service
    // throttles the create, and it is tried again.
    const recent = peers
      .map((p) => p.sentAt)
      .filter((t): t is number => t !== undefined && t > now - 1000 && t <= now + 1000)
      .sort((a, b) => a - b);
    const startedNow = start.filter((s) => sameAccount(s.endpoint, r.endpoint)).length;
    if (recent.length + startedNow >= limits.maxCreatesPerSecond) {
      later((recent[0] ?? now) + 1000);
      continue;
    }
    start.push(r);
  }
  return { start, wakeAt };
}

/** How long a request refused by throttling waits before it is tried again. */
export function throttleDelay(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const backoff = Math.min(60_000, 2000 * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(backoff / 2 + (random() * backoff) / 2));
}
