// What the plan needs to know of the world, gathered from disk and the task list: every source the board
// names (checkSources), the clips already made (by content key, from the task records and from the records
// beside the saved videos, so Clear Finished, a reload or a new window forget nothing; a rehearsal's clips
// only while the board is rehearsed), the tasks queued or running now, and whether the endpoint can take
// local audio. No vscode import: the host and the CLI share it.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { needsWork, type EndpointRef, type ShotLink, type TaskRecord } from '../tasks/record';
import { SavedVideoIndex, endpointOfSidecar, shotOfSidecar } from '../tasks/sidecar';
import { rehearsalSource } from '../tasks/rehearsal';
import { isRehearsal } from '../tasks/spend';
import { isUrl } from '../wan/request';
import { parseServiceTime } from '../wan/time';
import { parseBoard, type Board, type BoardProblem } from './board';
import { boardSources, planBoard, type MadeClip, type Plan, type PlanFacts } from './plan';
import { checkSources } from './prepare';

/** The plan's facts, plus the task a shot's content is being made by (a continuation waits for it). */
export interface BoardFacts extends PlanFacts {
  /** The id of the task record making this content now. */
  taskOf(key: string): string | undefined;
}

export interface GatherOptions {
  /** The task list (empty for the CLI, which keeps none). */
  records: readonly TaskRecord[];
  /** Folders whose saved videos may hold the board's clips (the output folders). */
  folders: readonly string[];
  canUploadAudio: boolean;
  /**
   * The board goes to the rehearsal emulator. Otherwise a clip or task of a rehearsal is not counted: the
   * emulator's clips are not the film, so a board rehearsed and then sent to a paid endpoint is made there.
   */
  rehearsal: boolean;
  /** Reused between gatherings, so each record file is read once until it changes. */
  index?: SavedVideoIndex;
}

/**
 * The temporary upload (how local audio reaches the service) is documented for Beijing only: a Singapore
 * endpoint takes the soundtrack as a URL or not at all. The emulator and custom gateways offer it.
 */
export function canUploadAudio(endpoint: Pick<EndpointRef, 'kind'>): boolean {
  return endpoint.kind !== 'singapore' && endpoint.kind !== 'singapore-workspace';
}

/** One board is one file: the same path however it was written. */
export function sameBoard(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

interface Sighting {
  link: ShotLink;
  at: number;
  clip?: MadeClip;
  /** A task making it now (its record id). */
  task?: string;
  /** Made or being made by the rehearsal emulator. */
  rehearsal: boolean;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Every shot clip the task list knows, saved or on its way (a saved one whose file is gone does not count). */
async function fromRecords(records: readonly TaskRecord[]): Promise<Sighting[]> {
  const out: Sighting[] = [];
  for (const r of records) {
    if (!r.shot) continue;
    const file = r.save?.state === 'saved' ? r.save.file : undefined;
    const rehearsal = isRehearsal(r.endpoint);
    if (file && (await isFile(file))) out.push({ link: r.shot, at: r.requestedAt, clip: { video: file, ...(r.taskId ? { taskId: r.taskId } : {}) }, rehearsal });
    // An interrupted create may have been paid: it is waited for (the user decides it), never sent again.
    else if (needsWork(r) || r.state === 'unresolved') out.push({ link: r.shot, at: r.requestedAt, task: r.id, rehearsal });
  }
  return out;
}

async function fromSavedVideos(folders: readonly string[], index: SavedVideoIndex): Promise<Sighting[]> {
  const out: Sighting[] = [];
  for (const folder of new Set(folders)) {
    for (const { sidecar, video } of await index.all(folder)) {
      const link = shotOfSidecar(sidecar);
      if (!link) continue;
      const at = parseServiceTime(sidecar.end_time ?? sidecar.submit_time)?.getTime() ?? 0;
      out.push({ link, at, clip: { video: video.file, taskId: sidecar.task_id }, rehearsal: isRehearsal(endpointOfSidecar(sidecar)) });
    }
  }
  return out;
}

async function framesOfRehearsals(keyframes: readonly string[], boardDir: string): Promise<string[]> {
  const kinds = await Promise.all(keyframes.map((k) => (isUrl(k) ? Promise.resolve(undefined) : rehearsalSource(resolve(boardDir, k)))));
  return keyframes.filter((_, i) => kinds[i] !== undefined);
}

/** Gathers the facts for planning `board`, saved at `boardPath`. */
export async function gatherFacts(board: Board, boardPath: string, o: GatherOptions): Promise<BoardFacts> {
  const keyframes = boardSources(board).filter((s) => s !== board.settings.soundtrack);
  const [sources, records, saved, rehearsalFrames] = await Promise.all([
    checkSources(board, dirname(boardPath)),
    fromRecords(o.records),
    fromSavedVideos(o.folders, o.index ?? new SavedVideoIndex()),
    // Only worth saying when the board is paid for: a rehearsal may well animate its own frames.
    o.rehearsal ? [] : framesOfRehearsals(keyframes, dirname(boardPath)),
  ]);
  const made = new Map<string, MadeClip>();
  const making = new Map<string, string>();
  const latest = new Map<string, Sighting>();
  const rehearsed = new Set<string>();
  for (const s of [...records, ...saved]) {
    if (s.rehearsal && !o.rehearsal) {
      if (s.clip) rehearsed.add(s.link.key);
      continue;
    }
    if (s.clip && !made.has(s.link.key)) made.set(s.link.key, s.clip);
    if (s.task && !making.has(s.link.key)) making.set(s.link.key, s.task);
    if (!sameBoard(s.link.board, boardPath)) continue;
    const before = latest.get(s.link.shotId);
    if (!before || s.at > before.at) latest.set(s.link.shotId, s);
  }
  return {
    sources,
    made: (key) => made.get(key),
    lastMadeKey: (shotId) => latest.get(shotId)?.link.key,
    inFlight: (key) => !made.has(key) && making.has(key),
    rehearsedOnly: (key) => !made.has(key) && rehearsed.has(key),
    rehearsalFrames,
    taskOf: (key) => making.get(key),
    canUploadAudio: o.canUploadAudio,
  };
}

export type BoardReading = { ok: false; problems: BoardProblem[] } | { ok: true; board: Board; facts: BoardFacts; plan: Plan };

/** A board file's text read and planned: its syntax or field problems (with line and column), or its plan. */
export async function readAndPlan(text: string, boardPath: string, o: GatherOptions): Promise<BoardReading> {
  const parsed = parseBoard(text);
  if (!parsed.ok) return parsed;
  const facts = await gatherFacts(parsed.board, boardPath, o);
  return { ok: true, board: parsed.board, facts, plan: planBoard(parsed.board, facts) };
}
