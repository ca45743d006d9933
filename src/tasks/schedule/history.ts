// What the account's own finished tasks say about how long a task takes: one timing sample per task,
// filed under its cell (mode × resolution × duration band). Only differences of the service's own times
// are kept (its clock is UTC+8 and may disagree with ours), never absolute instants. No vscode import.
import { DURATION_DEFAULT_S, RESOLUTION_DEFAULT } from '../../wan/limits';
import type { Resolution } from '../../wan/schema';
import { parseServiceTime } from '../../wan/time';
import type { TaskRecord } from '../record';
import { SIDECAR_FORMAT, type VideoSidecar } from '../sidecar';

/** What the service is asked to do; a morph or a continuation is not the same work as an animated still. */
export type TaskMode = 'first-frame' | 'first-last' | 'continue';
export const TASK_MODES: readonly TaskMode[] = ['first-frame', 'first-last', 'continue'];

/** Video lengths 2..15 s in three bands, so a cell gathers samples quickly. */
export const DURATION_BANDS = [
  { band: 0, upToS: 5 },
  { band: 1, upToS: 10 },
  { band: 2, upToS: Number.POSITIVE_INFINITY },
] as const;

export interface Cell {
  mode: TaskMode;
  resolution: Resolution;
  band: number;
}

export interface TimingSample {
  cell: Cell;
  /** end − submit, in the service's times. */
  totalMs: number;
  /** end − scheduled (the run alone), when the service said when the task started. */
  runMs?: number;
  /** Orders samples (newest last); any monotonic number, e.g. the end time. */
  order: number;
}

/** The request fields a cell depends on (a TaskRequest and the CLI's GenerationInput both have them). */
export interface CellInput {
  firstFrame?: string;
  lastFrame?: string;
  firstClip?: string;
  resolution?: Resolution;
  duration?: number;
}

export function cellOf(input: CellInput): Cell {
  const mode: TaskMode = input.firstClip ? 'continue' : input.lastFrame ? 'first-last' : 'first-frame';
  const seconds = input.duration ?? DURATION_DEFAULT_S;
  const band = DURATION_BANDS.find((b) => seconds <= b.upToS)!.band;
  return { mode, resolution: input.resolution ?? RESOLUTION_DEFAULT, band };
}

export function cellKey(c: Cell): string {
  return `${c.mode}/${c.resolution}/${c.band}`;
}

/** A plausible duration: a clock glitch or a malformed time must not teach the schedule nonsense. */
const MAX_PLAUSIBLE_MS = 24 * 60 * 60 * 1000;
const plausible = (ms: number | undefined): ms is number => ms !== undefined && Number.isFinite(ms) && ms > 0 && ms < MAX_PLAUSIBLE_MS;

function sample(cell: Cell, submit?: string, scheduled?: string, end?: string): TimingSample | undefined {
  const s = parseServiceTime(submit)?.getTime();
  const e = parseServiceTime(end)?.getTime();
  if (s === undefined || e === undefined || !plausible(e - s)) return undefined;
  const started = parseServiceTime(scheduled)?.getTime();
  const run = started === undefined ? undefined : e - started;
  return { cell, totalMs: e - s, ...(plausible(run) && run <= e - s ? { runMs: run } : {}), order: e };
}

/** A succeeded task of the store; failures end at odd times and teach nothing about the work. */
export function sampleOfRecord(r: TaskRecord): TimingSample | undefined {
  if (r.serviceStatus !== 'SUCCEEDED' && r.state !== 'succeeded') return undefined;
  return sample(cellOf(r.request), r.submitTime, r.scheduledTime, r.endTime);
}

/** A sidecar saved beside a video (the extension's or the CLI's), read leniently: anything odd is skipped. */
export function sampleOfSidecar(json: unknown): TimingSample | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const s = json as Partial<VideoSidecar> & { scheduled_time?: unknown };
  if (s.format !== SIDECAR_FORMAT || typeof s.submit_time !== 'string' || typeof s.end_time !== 'string') return undefined;
  const p = s.parameters ?? {};
  const m = s.media ?? {};
  const resolution = p.resolution === '720P' || p.resolution === '1080P' ? p.resolution : undefined;
  const duration = typeof p.duration === 'number' ? p.duration : undefined;
  const cell = cellOf({ firstFrame: m.first_frame, lastFrame: m.last_frame, firstClip: m.first_clip, resolution, duration });
  return sample(cell, s.submit_time, typeof s.scheduled_time === 'string' ? s.scheduled_time : undefined, s.end_time);
}

export function historyOfRecords(records: readonly TaskRecord[]): TimingSample[] {
  return records.map(sampleOfRecord).filter((s): s is TimingSample => s !== undefined);
}
