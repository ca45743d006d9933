// A board's film on disk: `name.mp4` beside `name.wanboard.json`, and `name.json` beside the film listing every
// shot's task and clip, so the film can be traced back to what was paid for. No vscode import.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeAtomic } from '../tasks/atomicFile';
import { isUrl } from '../wan/request';
import { assembleFilm, filmParts, type FilmLayout } from './assemble';
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
  shots: { id: string; task_id?: string; clip: string; key?: string; film_start: number; film_seconds: number }[];
}

export interface AssembledFilm {
  video: string;
  record: string;
  layout: FilmLayout;
  /** The soundtrack could not be laid under the film (an oss:// or data: source), when so. */
  note?: string;
}

/** Joins every shot's clip into the board's film; throws AssemblyError when a shot has no clip yet. */
export async function assembleBoard(board: Board, plan: Plan, boardPath: string, opts: { signal?: AbortSignal } = {}): Promise<AssembledFilm> {
  const parts = filmParts(plan);
  const { video, record } = filmPaths(boardPath);
  const track = board.settings.soundtrack;
  // ffmpeg reads local files only (the WebAssembly build has no network): an http(s) soundtrack is fetched first.
  const scratch = track && isFetchable(track) ? await mkdtemp(join(tmpdir(), 'wan-film-')) : undefined;
  try {
    const soundtrack = !track ? undefined : scratch ? await fetchSoundtrack(track, join(scratch, 'soundtrack'), opts.signal) : isUrl(track) ? undefined : resolveSource(dirname(boardPath), track);
    const layout = await assembleFilm(parts, video, { soundtrack, signal: opts.signal });
    const film: FilmRecord = {
      format: FILM_FORMAT,
      board: basename(boardPath),
      file: basename(video),
      seconds: Number(layout.seconds.toFixed(3)),
      ...(soundtrack ? { soundtrack: track } : {}),
      shots: plan.shots.map((s) => ({
        id: s.id,
        ...(s.made?.taskId ? { task_id: s.made.taskId } : {}),
        clip: s.made!.video,
        ...(s.key ? { key: s.key } : {}),
        film_start: s.filmStart,
        film_seconds: s.filmSeconds,
      })),
    };
    await writeAtomic(record, `${JSON.stringify(film, null, 2)}\n`);
    return { video, record, layout, ...(track && !soundtrack ? { note: 'The soundtrack is not an http(s) URL or a local file: the film was assembled without it.' } : {}) };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
