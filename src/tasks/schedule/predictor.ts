// Predicts when a new task ends from the account's history: the window of task ages (since its submit)
// in which the end is likely. Robust quantiles of recent samples, padded when the history is thin or
// the newest sample fell outside what the older ones predicted (the service changed pace). No vscode.
import { TASK_MODES, cellKey, type Cell, type TimingSample } from './history';

export interface EndWindow {
  /** Task age (since its submit) from which its end is likely, and past which it is overdue. */
  loMs: number;
  hiMs: number;
  /** How many samples it rests on, and whether they are the task's own cell or neighbouring ones. */
  samples: number;
  basis: 'cell' | 'neighbours' | 'few';
}

/** The newest samples per cell that count: the service's pace drifts, old history should fade. */
export const RECENT_SAMPLES = 20;
/**
 * Fewer samples than this in the cell: its neighbours are asked; when they too hold fewer, the cell's own
 * one or two samples give a wide window ('few'); with none at all, the adaptive schedule (cold start).
 */
export const MIN_SAMPLES = 3;
/** Below this many samples the window is widened, the more the fewer. */
const CONFIDENT_SAMPLES = 10;
const THIN_PAD = 0.25; // of the median, at zero samples
const FEW_PAD = 0.5; // of the median, at zero samples, when fewer than MIN_SAMPLES: one task says little of the next
const NEIGHBOUR_PAD = 0.2; // of the median: another cell's tasks are similar, not the same
const BASE_PAD_MS = 1000;
const SPREAD_PAD = 0.1; // of the 5–95% spread

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const i = Math.floor(at);
  return sorted[i]! + (sorted[Math.min(i + 1, sorted.length - 1)]! - sorted[i]!) * (at - i);
}

interface Estimate {
  loMs: number;
  hiMs: number;
  medianMs: number;
}

/** The window of durations `xs` (oldest first) suggest. */
export function estimate(xs: readonly number[], checkMiss = true): Estimate {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  const lo = quantile(sorted, 0.05);
  const hi = quantile(sorted, 0.95);
  const medianMs = quantile(sorted, 0.5);
  const thin = n < MIN_SAMPLES ? FEW_PAD : THIN_PAD;
  let pad = BASE_PAD_MS + SPREAD_PAD * (hi - lo) + (medianMs * thin * Math.max(0, CONFIDENT_SAMPLES - n)) / CONFIDENT_SAMPLES;
  let [low, high] = [lo, hi];
  if (checkMiss && n > MIN_SAMPLES) {
    // The newest task ended where the older ones did not predict: reach it, with twice the margin.
    const before = estimate(xs.slice(0, -1), false);
    const newest = xs[xs.length - 1]!;
    if (newest < before.loMs || newest > before.hiMs) {
      pad *= 2;
      [low, high] = [Math.min(lo, newest), Math.max(hi, newest)];
    }
  }
  return { loMs: Math.max(0, low - pad), hiMs: high + pad, medianMs };
}

function neighbours(c: Cell): Cell[] {
  const other = c.resolution === '720P' ? '1080P' : '720P';
  return [
    ...[c.band - 1, c.band + 1].filter((b) => b >= 0 && b <= 2).map((band) => ({ ...c, band })),
    { ...c, resolution: other },
    ...TASK_MODES.filter((m) => m !== c.mode).map((mode) => ({ ...c, mode })),
  ];
}

export class EndPredictor {
  private readonly cells = new Map<string, TimingSample[]>();

  constructor(history: Iterable<TimingSample>) {
    for (const s of [...history].sort((a, b) => a.order - b.order)) {
      const key = cellKey(s.cell);
      const list = this.cells.get(key) ?? [];
      list.push(s);
      if (list.length > RECENT_SAMPLES) list.shift();
      this.cells.set(key, list);
    }
  }

  /** How many samples the cell holds (for figures and tests). */
  samples(cell: Cell): number {
    return this.cells.get(cellKey(cell))?.length ?? 0;
  }

  /**
   * Where a task of `cell` should end. Once the service has said when it started (`queuedMs` =
   * scheduled − submit), the run alone is predicted and shifted by that queue; before, the whole span.
   * Undefined only when the cell has no sample and its neighbours too few: the caller keeps the adaptive
   * schedule. One or two of the cell's own (the first tasks of a rehearsal, of a new kind) give a wide window.
   */
  window(cell: Cell, queuedMs?: number): EndWindow | undefined {
    const own = this.cells.get(cellKey(cell)) ?? [];
    const pooled = () => neighbours(cell).flatMap((c) => this.cells.get(cellKey(c)) ?? []).sort((a, b) => a.order - b.order);
    for (const [samples, basis, least] of [
      [own, 'cell', MIN_SAMPLES],
      [pooled(), 'neighbours', MIN_SAMPLES],
      [own, 'few', 1],
    ] as const) {
      const runs = queuedMs === undefined ? [] : samples.flatMap((s) => (s.runMs === undefined ? [] : [s.runMs]));
      const [xs, offset] = runs.length >= least ? [runs, queuedMs ?? 0] : [samples.map((s) => s.totalMs), 0];
      if (xs.length < least) continue;
      const e = estimate(xs);
      const extra = basis === 'neighbours' ? NEIGHBOUR_PAD * e.medianMs : 0;
      return { loMs: Math.max(0, offset + e.loMs - extra), hiMs: offset + e.hiMs + extra, samples: xs.length, basis };
    }
    return undefined;
  }
}
