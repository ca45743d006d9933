// The Gallery's list: every saved video of the workspace, from the task list's records and from the folders'
// own files (a record `.json` beside a video, or a bare `wan-<task id>.mp4` as the CLI saves it), so videos
// made in another window, on another machine or by `wan-video` appear too. One entry per task ID. No vscode.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TaskRecord } from '../tasks/record';
import { MAX_SIDECAR_BYTES, parseSidecar, videoBesideSidecar, type VideoSidecar } from '../tasks/sidecar';
import { isCompleteMp4 } from '../wan/files';
import { parseServiceTime } from '../wan/time';
import { GalleryFilterSchema, type GalleryEntry, type GalleryFilter, type GalleryMode } from './schema';

/** The CLI's name for a saved video: `wan-<task id>.mp4`. */
const CLI_NAME = /^wan-([A-Za-z0-9-]+)\.mp4$/i;

function modeOf(media: { firstFrame?: string; lastFrame?: string; firstClip?: string }, known: boolean): GalleryMode {
  if (media.firstClip) return 'continue';
  if (media.firstFrame && media.lastFrame) return 'morph';
  if (media.firstFrame) return 'animate';
  return known ? 'animate' : 'unknown';
}

async function videoSize(path: string): Promise<{ bytes: number; mtimeMs: number } | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() && s.size > 0 ? { bytes: s.size, mtimeMs: s.mtimeMs } : undefined;
}

async function fromRecord(r: TaskRecord): Promise<GalleryEntry | undefined> {
  const file = r.save?.state === 'saved' ? r.save.file : undefined;
  if (!file) return undefined;
  const size = await videoSize(file);
  if (!size) return undefined; // deleted or moved since
  const q = r.request;
  return {
    key: r.taskId ?? file,
    taskId: r.taskId,
    recordId: r.id,
    file,
    prompt: q.prompt ?? r.origPrompt ?? '',
    // A task added by ID knows only its prompt, not its inputs.
    mode: modeOf(q, false),
    madeAt: parseServiceTime(r.endTime)?.getTime() ?? size.mtimeMs,
    bytes: size.bytes,
    rehearsal: r.endpoint.kind === 'emulator',
    durationS: q.duration,
    resolution: q.resolution,
    source: 'task',
  };
}

async function fromSidecar(path: string, sidecar: Partial<VideoSidecar> & { task_id: string }): Promise<GalleryEntry | undefined> {
  const file = videoBesideSidecar(path, sidecar);
  const size = await videoSize(file);
  if (!size || !(await isCompleteMp4(file))) return undefined;
  const m = sidecar.media ?? {};
  return {
    key: sidecar.task_id,
    taskId: sidecar.task_id,
    file,
    sidecar: path,
    prompt: sidecar.prompt ?? sidecar.orig_prompt ?? '',
    mode: modeOf({ firstFrame: m.first_frame, lastFrame: m.last_frame, firstClip: m.first_clip }, false),
    madeAt: parseServiceTime(sidecar.end_time)?.getTime() ?? size.mtimeMs,
    bytes: size.bytes,
    rehearsal: sidecar.rehearsal === true,
    durationS: sidecar.parameters?.duration,
    resolution: sidecar.parameters?.resolution,
    source: 'sidecar',
  };
}

async function fromBareVideo(file: string): Promise<GalleryEntry | undefined> {
  const size = await videoSize(file);
  if (!size || !(await isCompleteMp4(file))) return undefined;
  const taskId = CLI_NAME.exec(basename(file))?.[1];
  return { key: taskId ?? file, taskId, file, prompt: '', mode: 'unknown', madeAt: size.mtimeMs, bytes: size.bytes, rehearsal: false, source: 'file' };
}

/** The videos of one folder (not its subfolders), from their records or, without one, their names. */
export async function scanFolder(folder: string): Promise<GalleryEntry[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const entries: GalleryEntry[] = [];
  const described = new Set<string>();
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(folder, name);
    const size = await stat(path).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size <= 0 || size > MAX_SIDECAR_BYTES) continue;
    const sidecar = parseSidecar(await readFile(path, 'utf8').catch(() => ''));
    if (!sidecar) continue;
    const entry = await fromSidecar(path, sidecar);
    if (entry) {
      entries.push(entry);
      described.add(entry.file);
    }
  }
  for (const name of names) {
    if (!/\.mp4$/i.test(name) || name.startsWith('.')) continue;
    const file = join(folder, name);
    if (described.has(file)) continue;
    const entry = await fromBareVideo(file);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * Every saved video, newest first: the task list's first (it knows most), then each folder's. A task ID or
 * a file seen twice is listed once; a folder's record adds its path to the task's entry.
 */
export async function collectGallery(records: readonly TaskRecord[], folders: readonly string[]): Promise<GalleryEntry[]> {
  const byKey = new Map<string, GalleryEntry>();
  const byFile = new Map<string, GalleryEntry>();
  const add = (e: GalleryEntry) => {
    const same = byKey.get(e.key) ?? byFile.get(e.file);
    if (same) {
      same.sidecar ??= e.sidecar;
      if (!same.prompt) same.prompt = e.prompt;
      if (same.mode === 'unknown') same.mode = e.mode;
      return;
    }
    byKey.set(e.key, e);
    byFile.set(e.file, e);
  };
  for (const e of await Promise.all(records.map(fromRecord))) if (e) add(e);
  for (const folder of new Set(folders)) for (const e of await scanFolder(folder)) add(e);
  return [...byKey.values()].sort((a, b) => b.madeAt - a.madeAt || a.file.localeCompare(b.file));
}

export function filterGallery(entries: readonly GalleryEntry[], filter: GalleryFilter): GalleryEntry[] {
  const f = GalleryFilterSchema.parse(filter);
  const words = f.query.toLowerCase().split(/\s+/).filter(Boolean);
  return entries.filter((e) => {
    if (f.mode !== 'all' && e.mode !== f.mode) return false;
    if (f.from !== undefined && e.madeAt < f.from) return false;
    if (f.to !== undefined && e.madeAt >= f.to) return false;
    const text = `${e.prompt} ${basename(e.file)}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}
