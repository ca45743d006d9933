// Endpoints nothing answers at (by URL), with their failures in a row and the requests waiting for them.

interface OutageState {
  failures: number;
  waiting: Set<string>;
}

export class Outages {
  private readonly byUrl = new Map<string, OutageState>();

  /** One more failure at `url` for request `id`; returns the outage as it now stands. */
  failed(url: string, id: string): { failures: number; waiting: string[] } {
    const outage = this.byUrl.get(url) ?? { failures: 0, waiting: new Set<string>() };
    this.byUrl.set(url, outage);
    outage.failures += 1;
    outage.waiting.add(id);
    return { failures: outage.failures, waiting: [...outage.waiting] };
  }

  /** Something answered at `url`: its outage is over. */
  answered(url: string): void {
    this.byUrl.delete(url);
  }

  waitingAt(url: string): string[] {
    return [...(this.byUrl.get(url)?.waiting ?? [])];
  }

  /** Every waiting request, and forgets every outage (the backoff starts over, a new failure is told again). */
  clear(): string[] {
    const ids = [...this.byUrl.values()].flatMap((o) => [...o.waiting]);
    this.byUrl.clear();
    return ids;
  }
}

/** A request waiting for an unreachable endpoint tries again after 5 s, doubling up to 5 min. */
export function outageDelay(failures: number, random: () => number): number {
  const backoff = Math.min(5 * 60_000, 5_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(backoff / 2 + (random() * backoff) / 2);
}
