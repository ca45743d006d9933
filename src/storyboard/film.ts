// A board's film on disk: `name.mp4` beside `name.wanboard.json`, and `name.json` beside the film listing every
// shot's task and clip, so the film can be traced back to what was paid for. No vscode import.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeAtomic } from '../tasks/atomicFile';
import { isUrl } from '../wan/request';
import { assembleFilm, filmParts } from './assemble';
import { BOARD_EXTENSION, type Board } from './board';
import type { Plan } from './plan';
import { resolveSource } from './prepare';
import { fetchSoundtrack, isFetchable } from './soundtrack';

export const FILM_FORMAT = 'wan-studio.film/1';

/** `name.wanboard.json` → `name`. */
export function boardName(boardPath: string): string {
  const file = basename(boardPath);
  return file.endsWith(BOARD_EXTENSION) ? file.slice(0, -BOARD_EXTENSION.length) : file.replace(/\.json$/i, '');
}

/** Where the film of a board goes, and its record. */
export function filmPaths(boardPath: string): { video: string; record: string } {
  const base = join(dirname(boardPath), boardName(boardPath));
  return { video: `${base}.mp4`, record: `${base}.json` };
}

export interface FilmRecord {
  format: typeof FILM_FORMAT;
  board: string;
  file: string;
  seconds: number;
  soundtrack?: string;
  /** A local soundtrack's size and modification time when laid: one edited in place makes the film outdated. */
  soundtrack_stamp?: string;
  shots: { id: string; task_id?: string; clip: string; key?: string; film_start: number; film_seconds: number }[];
}

export interface AssembledFilm {
  video: string;
  record: string;
  /** The film's length. */
  seconds: number;
  /** The film was already made of exactly these clips: ffmpeg was not run again. */
  upToDate: boolean;
  /** The soundtrack could not be laid under the film (an oss:// or data: source), when so. */
  note?: string;
}

function shotsOf(plan: Plan): FilmRecord['shots'] {
  return plan.shots.map((s) => ({
    id: s.id,
    ...(s.made?.taskId ? { task_id: s.made.taskId } : {}),
    clip: s.made!.video,
    ...(s.key ? { key: s.key } : {}),
    film_start: s.filmStart,
    film_seconds: s.filmSeconds,
  }));
}

async function stampOf(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.size}:${Math.round(info.mtimeMs)}` : undefined;
}

/**
 * The board's film as its record says it was made, when the film is there and was made of exactly the clips
 * (shot, task, content key, place in the film) and the soundtrack the plan has now: assembling it again would
 * make the same film. The one decision for the CLI's `board run` and the editor's Assemble.
 */
export async function currentFilm(board: Board, plan: Plan, boardPath: string): Promise<FilmRecord | undefined> {
  if (plan.shots.length === 0 || plan.shots.some((s) => !s.made)) return undefined;
  const { video, record } = filmPaths(boardPath);
  const [text, film] = await Promise.all([readFile(record, 'utf8').catch(() => undefined), stat(video).catch(() => undefined)]);
  if (!text || !film?.isFile() || film.size === 0) return undefined;
  let made: FilmRecord;
  try {
    made = JSON.parse(text) as FilmRecord;
  } catch {
    return undefined;
  }
  const track = board.settings.soundtrack;
  const laid = track && (!isUrl(track) || isFetchable(track)) ? track : undefined;
  const stamp = laid && !isUrl(laid) ? await stampOf(resolveSource(dirname(boardPath), laid)) : undefined;
  const same =
    made.format === FILM_FORMAT &&
    made.soundtrack === laid &&
    made.soundtrack_stamp === stamp &&
    JSON.stringify(made.shots) === JSON.stringify(shotsOf(plan));
  return same ? made : undefined;
}

/**
 * Joins every shot's clip into the board's film, unless the film is already made of exactly these clips
 * (currentFilm); throws AssemblyError when a shot has no clip yet.
 */
export async function assembleBoard(board: Board, plan: Plan, boardPath: string, opts: { signal?: AbortSignal } = {}): Promise<AssembledFilm> {
  const parts = filmParts(plan);
  const { video, record } = filmPaths(boardPath);
  const current = await currentFilm(board, plan, boardPath);
  if (current) return { video, record, seconds: current.seconds, upToDate: true };
  const track = board.settings.soundtrack;
  // ffmpeg reads local files only (the WebAssembly build has no network): an http(s) soundtrack is fetched first.
  const scratch = track && isFetchable(track) ? await mkdtemp(join(tmpdir(), 'wan-film-')) : undefined;
  try {
    const local = track && !isUrl(track) ? resolveSource(dirname(boardPath), track) : undefined;
    const soundtrack = scratch ? await fetchSoundtrack(track!, join(scratch, 'soundtrack'), opts.signal) : local;
    const stamp = local ? await stampOf(local) : undefined;
    const layout = await assembleFilm(parts, video, { soundtrack, signal: opts.signal });
    const film: FilmRecord = {
      format: FILM_FORMAT,
      board: basename(boardPath),
      file: basename(video),
      seconds: Number(layout.seconds.toFixed(3)),
      ...(soundtrack ? { soundtrack: track } : {}),
      ...(stamp ? { soundtrack_stamp: stamp } : {}),
      shots: shotsOf(plan),
    };
    await writeAtomic(record, `${JSON.stringify(film, null, 2)}\n`);
    return {
      video,
      record,
      seconds: film.seconds,
      upToDate: false,
      ...(track && !soundtrack ? { note: 'The soundtrack is not an http(s) URL or a local file: the film was assembled without it.' } : {}),
    };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
