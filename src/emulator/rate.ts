// The service's create quota: at most N task creates per second per account (5 for wan2.7-i2v).
import type { EmulatorClock } from './clock';

export const MAX_CREATES_PER_SECOND = 5;

/** Counts creates per account over the last second of the emulator's clock. */
export class CreateRateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly clock: EmulatorClock,
    private readonly perSecond = MAX_CREATES_PER_SECOND,
  ) {}

  /** Counts a create for `account` and returns true, or returns false when its last second is full. */
  take(account: string): boolean {
    const now = this.clock.now();
    const times = (this.recent.get(account) ?? []).filter((t) => now - t < 1000);
    const allowed = times.length < this.perSecond;
    if (allowed) times.push(now);
    if (times.length) this.recent.set(account, times);
    else this.recent.delete(account);
    return allowed;
  }
}
