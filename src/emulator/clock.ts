// The emulator's clock: real time, sped up by `timeScale`, plus whatever a test advanced it by.
export class EmulatorClock {
  private readonly realStart = Date.now();
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  }

  /** Emulated epoch milliseconds. */
  now(): number {
    const real = Date.now();
    return this.realStart + (real - this.realStart) * this.timeScale + this.offsetMs;
  }

  /** Jumps the clock forward (e.g. 25 h to see a task expire). Negative values are refused. */
  advance(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advanceMs must be a non-negative number, got ${ms}`);
    this.offsetMs += ms;
    for (const l of this.listeners) l();
    return this.now();
  }

  /** Real milliseconds until the emulated clock reaches `at` (0 if it already has). */
  realMsUntil(at: number): number {
    return Math.max(0, (at - this.now()) / this.timeScale);
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
