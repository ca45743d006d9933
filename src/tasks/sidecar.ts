// The small JSON file saved beside each video: how it was made, so it can be reproduced or continued.
// It never contains the key, inline image data or the (expiring) result link.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
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

const MAX_SIDECAR_BYTES = 256 * 1024;

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
}

/**
 * The records beside the saved videos, by folder: a sync or a recovery looks up many tasks in one folder, so
 * each record file is read once and again only when it changed (new name, size, time or inode), never once
 * per task looked up. A video is checked to be complete only when its task is asked for.
 */
export class SavedVideoIndex {
  private readonly folders = new Map<string, Map<string, KnownRecord>>();

  constructor(private readonly read: ReadText = (path) => readFile(path, 'utf8')) {}

  /**
   * The video of `taskId` already saved in `folder`: by the record beside it, or (its record never written:
   * the disk filled, the window closed) by the name this task's video gets, `base.mp4` or `base-N.mp4`.
   */
  async videoOf(folder: string, taskId: string, base: string): Promise<SavedVideo | undefined> {
    const names = (await readdir(folder).catch(() => [] as string[])).sort();
    const records = await this.refresh(folder, names);
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

  private async refresh(folder: string, names: readonly string[]): Promise<Map<string, KnownRecord>> {
    const before = this.folders.get(folder) ?? new Map<string, KnownRecord>();
    const now = new Map<string, KnownRecord>();
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(folder, name);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile() || s.size <= 0 || s.size > MAX_SIDECAR_BYTES) continue;
      const stamp = `${s.size}:${s.mtimeMs}:${s.ino}`;
      const known = before.get(name);
      now.set(name, known?.stamp === stamp ? known : { stamp, ...(await this.parse(folder, name, path)) });
    }
    this.folders.set(folder, now);
    return now;
  }

  private async parse(folder: string, name: string, path: string): Promise<Omit<KnownRecord, 'stamp'>> {
    let sidecar: Partial<VideoSidecar>;
    try {
      sidecar = JSON.parse(await this.read(path)) as Partial<VideoSidecar>;
    } catch {
      return {};
    }
    if (sidecar?.format !== SIDECAR_FORMAT || typeof sidecar.task_id !== 'string' || !sidecar.task_id) return {};
    // The folder may have been moved: the video is looked for beside its record.
    return { taskId: sidecar.task_id, video: join(folder, typeof sidecar.file === 'string' ? basename(sidecar.file) : name.replace(/\.json$/, '.mp4')) };
  }
}
