// The small JSON file saved beside each video: how it was made, so it can be reproduced or continued.
// It never contains the key, inline image data or the (expiring) result link.
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
