// The small JSON file saved beside each video: how it was made, so it can be reproduced or continued.
// It never contains the key, inline image data or the (expiring) result link.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isCompleteMp4 } from '../wan/files';
import { MODEL } from '../wan/limits';
import type { TaskRecord } from './record';
import { writeAtomic } from './store';

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
}

export function sidecarFor(r: TaskRecord, file: string, bytes: number, outputSize?: { width: number; height: number }): VideoSidecar {
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

/** The video a record at `path` describes: looked for beside it (the folder may have been moved). */
export function videoBesideSidecar(path: string, sidecar: Partial<VideoSidecar>): string {
  return join(dirname(path), typeof sidecar.file === 'string' ? basename(sidecar.file) : basename(path).replace(/\.json$/, '.mp4'));
}

async function completeVideo(path: string): Promise<number | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() && s.size > 0 && (await isCompleteMp4(path)) ? s.size : undefined;
}

/**
 * Videos already saved in `folder`, by task ID, known from the records beside them (a record whose video
 * is gone or incomplete does not count).
 */
export async function savedVideos(folder: string): Promise<Map<string, SavedVideo>> {
  const found = new Map<string, SavedVideo>();
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(folder, name);
    const size = await stat(path).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size <= 0 || size > MAX_SIDECAR_BYTES) continue;
    const sidecar = parseSidecar(await readFile(path, 'utf8').catch(() => ''));
    if (!sidecar || found.has(sidecar.task_id)) continue;
    const video = videoBesideSidecar(path, sidecar);
    const bytes = await completeVideo(video);
    if (bytes !== undefined) found.set(sidecar.task_id, { file: video, bytes, hasRecord: true });
  }
  return found;
}

/**
 * The video of `taskId` already saved in `folder`: by the record beside it, or (its record never written:
 * the disk filled, the window closed) by the name this task's video gets, `base.mp4` or `base-N.mp4`.
 */
export async function savedVideoOf(folder: string, taskId: string, base: string): Promise<SavedVideo | undefined> {
  const known = (await savedVideos(folder)).get(taskId);
  if (known) return known;
  const names = await readdir(folder).catch(() => [] as string[]);
  const ours = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?\\.mp4$`);
  for (const name of names.filter((n) => ours.test(n)).sort()) {
    if (names.includes(name.replace(/\.mp4$/, '.json'))) continue; // a record names another task
    const file = join(folder, name);
    const bytes = await completeVideo(file);
    if (bytes !== undefined) return { file, bytes, hasRecord: false };
  }
  return undefined;
}
