// The small JSON file saved beside each video: how it was made, so it can be reproduced or continued.
// It never contains the key, inline image data or the (expiring) result link.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isCompleteMp4 } from '../wan/files';
import { MODEL } from '../wan/limits';
import { UsageSchema } from '../wan/schema';
import { parseServiceTime } from '../wan/time';
import { ShotLinkSchema, type EndpointRef, type NewTaskRecord, type ShotLink, type TaskRecord } from './record';
import { writeAtomic } from './atomicFile';
import { isRehearsal } from './spend';

export const SIDECAR_FORMAT = 'wan-studio.video/1';

export interface VideoSidecar {
  format: typeof SIDECAR_FORMAT;
  model: string;
  rehearsal: boolean;
  task_id: string;
  request_id?: string;
  prompt?: string;
  orig_prompt?: string;
  negative_prompt?: string;
  seed?: number;
  parameters: { resolution?: string; duration?: number; prompt_extend?: boolean; watermark?: boolean };
  media: { first_frame?: string; last_frame?: string; driving_audio?: string; first_clip?: string };
  usage?: unknown;
  output_size?: { width: number; height: number };
  submit_time?: string;
  end_time?: string;
  endpoint: string;
  file: string;
  bytes: number;
  /** The storyboard shot the video was made for (its content key finds it again). */
  shot?: ShotLink;
}

/** What a record is written from: the extension's task, or the CLI's run (which has no task list). */
export type SidecarSource = Pick<TaskRecord, 'request' | 'endpoint' | 'taskId' | 'requestId' | 'origPrompt' | 'usage' | 'outputSize' | 'submitTime' | 'endTime' | 'shot'>;

export function sidecarFor(r: SidecarSource, file: string, bytes: number, outputSize?: { width: number; height: number }): VideoSidecar {
  const q = r.request;
  return {
    format: SIDECAR_FORMAT,
    model: MODEL,
    rehearsal: r.endpoint.kind === 'emulator',
    task_id: r.taskId ?? '',
    request_id: r.requestId,
    prompt: q.prompt,
    orig_prompt: r.origPrompt,
    negative_prompt: q.negativePrompt,
    seed: q.seed,
    parameters: { resolution: q.resolution, duration: q.duration, prompt_extend: q.promptExtend, watermark: q.watermark },
    media: { first_frame: q.firstFrame, last_frame: q.lastFrame, driving_audio: q.drivingAudio, first_clip: q.firstClip },
    usage: r.usage ?? undefined,
    output_size: outputSize ?? r.outputSize,
    submit_time: r.submitTime,
    end_time: r.endTime,
    endpoint: r.endpoint.kind === 'emulator' ? 'emulator' : r.endpoint.baseUrl,
    file,
    bytes,
    ...(r.shot ? { shot: r.shot } : {}),
  };
}

export function writeSidecar(path: string, sidecar: VideoSidecar): Promise<void> {
  return writeAtomic(path, `${JSON.stringify(sidecar, null, 2)}\n`);
}

/** The record's path beside a saved video: the same name, `.json`. */
export function sidecarPathOf(video: string): string {
  return video.replace(/\.mp4$/i, '') + '.json';
}

export interface SavedVideo {
  file: string;
  bytes: number;
  /** False for a video found by its name alone: its record beside it is still to be written. */
  hasRecord: boolean;
}

/** A larger `.json` is not one of ours (and is not read whole). */
export const MAX_SIDECAR_BYTES = 256 * 1024;

/** A record's text, when it is one of ours with a task ID (else undefined; never throws). */
export function parseSidecar(text: string): (Partial<VideoSidecar> & { task_id: string }) | undefined {
  let sidecar: Partial<VideoSidecar>;
  try {
    sidecar = JSON.parse(text) as Partial<VideoSidecar>;
  } catch {
    return undefined;
  }
  if (sidecar?.format !== SIDECAR_FORMAT || typeof sidecar.task_id !== 'string' || !sidecar.task_id) return undefined;
  return sidecar as Partial<VideoSidecar> & { task_id: string };
}

/** The storyboard shot a record names, when it names a well-formed one. */
export function shotOfSidecar(sidecar: Partial<VideoSidecar>): ShotLink | undefined {
  const parsed = ShotLinkSchema.safeParse(sidecar.shot);
  return parsed.success ? parsed.data : undefined;
}

/** The endpoint a saved video's record names: the rehearsal emulator (whatever its port was), or the URL it was sent to. */
export function endpointOfSidecar(sidecar: Partial<VideoSidecar>): EndpointRef {
  if (sidecar.endpoint === 'emulator' || sidecar.rehearsal === true) return { kind: 'emulator', baseUrl: '' };
  return { kind: 'custom', baseUrl: typeof sidecar.endpoint === 'string' ? sidecar.endpoint : '' };
}

/** The record beside `video` says the rehearsal emulator made it (no record, or an unreadable one: not known to be). */
export async function madeByRehearsal(video: string): Promise<boolean> {
  const text = await readFile(sidecarPathOf(video), 'utf8').catch(() => undefined);
  const sidecar = text === undefined ? undefined : parseSidecar(text);
  return sidecar !== undefined && isRehearsal(endpointOfSidecar(sidecar));
}

/** The video a record at `path` describes: looked for beside it (the folder may have been moved). */
export function videoBesideSidecar(path: string, sidecar: Partial<VideoSidecar>): string {
  return join(dirname(path), typeof sidecar.file === 'string' ? basename(sidecar.file) : basename(path).replace(/\.json$/, '.mp4'));
}

async function completeVideo(path: string): Promise<number | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() && s.size > 0 && (await isCompleteMp4(path)) ? s.size : undefined;
}

type ReadText = (path: string) => Promise<string>;

/** What one record file said, and the file's identity when read (read again only when it changes). */
interface KnownRecord {
  stamp: string;
  taskId?: string;
  video?: string;
  sidecar?: Partial<VideoSidecar>;
}

/**
 * The records beside the saved videos, by folder: a sync or a recovery looks up many tasks in one folder, so
 * each record file is read once and again only when it changed (new name, size, time or inode), never once
 * per task looked up. A video is checked to be complete only when its task is asked for.
 */
export class SavedVideoIndex {
  private readonly folders = new Map<string, Map<string, KnownRecord>>();
  private readonly refreshing = new Map<string, Promise<unknown>>();

  constructor(private readonly read: ReadText = (path) => readFile(path, 'utf8')) {}

  /**
   * The video of `taskId` already saved in `folder`: by the record beside it, or (its record never written:
   * the disk filled, the window closed) by the name this task's video gets, `base.mp4` or `base-N.mp4`.
   */
  async videoOf(folder: string, taskId: string, base: string): Promise<SavedVideo | undefined> {
    const { names, records } = await this.refresh(folder);
    for (const name of names) {
      const known = records.get(name);
      if (known?.taskId !== taskId || !known.video) continue;
      const bytes = await completeVideo(known.video);
      if (bytes !== undefined) return { file: known.video, bytes, hasRecord: true };
    }
    const ours = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?\\.mp4$`);
    for (const name of names.filter((n) => ours.test(n))) {
      if (names.includes(name.replace(/\.mp4$/, '.json'))) continue; // a record names another task
      const file = join(folder, name);
      const bytes = await completeVideo(file);
      if (bytes !== undefined) return { file, bytes, hasRecord: false };
    }
    return undefined;
  }

  /** Every saved video in `folder` with the record beside it (a record whose video is gone or incomplete does not count). */
  async all(folder: string): Promise<{ sidecar: Partial<VideoSidecar> & { task_id: string }; video: SavedVideo }[]> {
    const { records } = await this.refresh(folder);
    const out: { sidecar: Partial<VideoSidecar> & { task_id: string }; video: SavedVideo }[] = [];
    const seen = new Set<string>();
    for (const known of records.values()) {
      if (!known.taskId || !known.video || !known.sidecar || seen.has(known.taskId)) continue;
      const bytes = await completeVideo(known.video);
      if (bytes === undefined) continue;
      seen.add(known.taskId);
      out.push({ sidecar: { ...known.sidecar, task_id: known.taskId }, video: { file: known.video, bytes, hasRecord: true } });
    }
    return out;
  }

  /** One refresh of a folder at a time: two lookups at once (an adopt and the save it wakes) read each file once. */
  private refresh(folder: string): Promise<{ names: string[]; records: Map<string, KnownRecord> }> {
    const next = (this.refreshing.get(folder) ?? Promise.resolve()).then(() => this.reread(folder));
    this.refreshing.set(folder, next.catch(() => undefined));
    return next;
  }

  private async reread(folder: string): Promise<{ names: string[]; records: Map<string, KnownRecord> }> {
    const names = (await readdir(folder).catch(() => [] as string[])).sort();
    const before = this.folders.get(folder) ?? new Map<string, KnownRecord>();
    const now = new Map<string, KnownRecord>();
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(folder, name);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile() || s.size <= 0 || s.size > MAX_SIDECAR_BYTES) continue;
      const stamp = `${s.size}:${s.mtimeMs}:${s.ino}`;
      const known = before.get(name);
      now.set(name, known?.stamp === stamp ? known : { stamp, ...(await this.parse(path)) });
    }
    this.folders.set(folder, now);
    return { names, records: now };
  }

  private async parse(path: string): Promise<Omit<KnownRecord, 'stamp'>> {
    const sidecar = parseSidecar(await this.read(path).catch(() => ''));
    return sidecar ? { taskId: sidecar.task_id, video: videoBesideSidecar(path, sidecar), sidecar } : {};
  }
}

/** A saved video's task as the record beside it tells it: ended, saved, nothing left to do or announce. */
export function recordOfSidecar(sidecar: Partial<VideoSidecar> & { task_id: string }, video: SavedVideo, id: string, now: number): NewTaskRecord {
  const media = sidecar.media ?? {};
  const p = sidecar.parameters ?? {};
  const requestedAt = parseServiceTime(sidecar.submit_time)?.getTime() ?? now;
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    id,
    state: 'succeeded',
    request: {
      prompt: text(sidecar.prompt),
      negativePrompt: text(sidecar.negative_prompt),
      firstFrame: text(media.first_frame),
      lastFrame: text(media.last_frame),
      drivingAudio: text(media.driving_audio),
      firstClip: text(media.first_clip),
      resolution: p.resolution === '720P' || p.resolution === '1080P' ? p.resolution : undefined,
      duration: Number.isInteger(p.duration) ? p.duration : undefined,
      seed: Number.isInteger(sidecar.seed) ? sidecar.seed : undefined,
    },
    endpoint: endpointOfSidecar(sidecar),
    outputFolder: dirname(video.file),
    requestedAt,
    updatedAt: now,
    taskId: sidecar.task_id,
    requestId: text(sidecar.request_id),
    origPrompt: text(sidecar.orig_prompt),
    submitTime: text(sidecar.submit_time),
    endTime: text(sidecar.end_time),
    outputSize: sidecar.output_size,
    // What it was billed: spend counts usage first (a `wait` record asked for no duration to count by).
    usage: UsageSchema.safeParse(sidecar.usage).data,
    save: { state: 'saved', file: video.file, bytes: video.bytes, attempts: 0 },
    announced: true,
    shot: shotOfSidecar(sidecar),
  };
}
