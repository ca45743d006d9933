// What the player knows about a video: its sidecar (`<name>.json` beside it, written when the video was
// saved, so it works for any saved video, even one copied from another machine) or a task record passed in.
// Also turns those facts into the generation panel's prefill. No vscode import.
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import type { TaskRecord, TaskRequest } from '../tasks/record';
import { SIDECAR_FORMAT, sidecarFor } from '../tasks/sidecar';

/** The sidecar as read back: lenient (every field optional) so an older or hand-edited file still shows what it has. */
export const VideoFactsSchema = z.looseObject({
  format: z.literal(SIDECAR_FORMAT),
  model: z.string().optional(),
  rehearsal: z.boolean().optional(),
  task_id: z.string().optional(),
  prompt: z.string().optional(),
  orig_prompt: z.string().optional(),
  negative_prompt: z.string().optional(),
  seed: z.number().int().optional(),
  parameters: z
    .looseObject({
      resolution: z.string().optional(),
      duration: z.number().optional(),
      prompt_extend: z.boolean().optional(),
      watermark: z.boolean().optional(),
    })
    .optional(),
  media: z
    .looseObject({
      first_frame: z.string().optional(),
      last_frame: z.string().optional(),
      driving_audio: z.string().optional(),
      first_clip: z.string().optional(),
    })
    .optional(),
  usage: z
    .looseObject({
      duration: z.number().optional(),
      input_video_duration: z.number().optional(),
      output_video_duration: z.number().optional(),
      video_count: z.number().optional(),
      SR: z.number().optional(),
    })
    .nullish(),
  output_size: z.object({ width: z.number(), height: z.number() }).optional(),
  end_time: z.string().optional(),
});
export type VideoFacts = z.infer<typeof VideoFactsSchema>;

export function sidecarPathOf(video: string): string {
  return join(dirname(video), `${basename(video, extname(video))}.json`);
}

export type FactsResult = { facts: VideoFacts; from: 'record' | 'sidecar' } | { facts: undefined; from: 'none'; problem?: string };

/** The record's facts when one is given, else the sidecar's; `problem` says why a sidecar that exists was not used. */
export async function readVideoFacts(video: string, record?: TaskRecord): Promise<FactsResult> {
  if (record) {
    const parsed = VideoFactsSchema.safeParse(sidecarFor(record, video, record.save?.bytes ?? 0));
    if (parsed.success) return { facts: parsed.data, from: 'record' };
  }
  let text: string;
  try {
    text = await readFile(sidecarPathOf(video), 'utf8');
  } catch {
    return { facts: undefined, from: 'none' };
  }
  try {
    const parsed = VideoFactsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { facts: parsed.data, from: 'sidecar' };
    return { facts: undefined, from: 'none', problem: z.prettifyError(parsed.error) };
  } catch (e) {
    return { facts: undefined, from: 'none', problem: (e as Error).message };
  }
}

export type GeneratorMode = 'animate' | 'morph' | 'continue';

export interface OpenGeneratorArgs {
  prefill?: Partial<TaskRequest>;
  mode?: GeneratorMode;
}

const RESOLUTIONS = ['720P', '1080P'] as const;

/** "Generate Again": the same inputs and settings; `seed` the one to use (undefined lets the service choose). */
export function generateAgainArgs(facts: VideoFacts, seed: number | undefined): OpenGeneratorArgs {
  const m = facts.media ?? {};
  const p = facts.parameters ?? {};
  const resolution = RESOLUTIONS.find((r) => r === p.resolution?.toUpperCase());
  const prefill: Partial<TaskRequest> = {
    ...(m.first_frame ? { firstFrame: m.first_frame } : {}),
    ...(m.last_frame ? { lastFrame: m.last_frame } : {}),
    ...(m.driving_audio ? { drivingAudio: m.driving_audio } : {}),
    ...(m.first_clip ? { firstClip: m.first_clip } : {}),
    ...(facts.prompt !== undefined ? { prompt: facts.prompt } : {}),
    ...(facts.negative_prompt !== undefined ? { negativePrompt: facts.negative_prompt } : {}),
    ...(resolution ? { resolution } : {}),
    ...(p.duration !== undefined ? { duration: p.duration } : {}),
    ...(p.prompt_extend !== undefined ? { promptExtend: p.prompt_extend } : {}),
    ...(p.watermark !== undefined ? { watermark: p.watermark } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  const mode: GeneratorMode = m.first_clip ? 'continue' : m.last_frame ? 'morph' : 'animate';
  return { prefill, mode };
}

/** "Continue This Video": the result as first_clip, at the same resolution. */
export function continueArgs(video: string, facts: VideoFacts | undefined): OpenGeneratorArgs {
  const resolution = RESOLUTIONS.find((r) => r === facts?.parameters?.resolution?.toUpperCase());
  return { prefill: { firstClip: video, ...(resolution ? { resolution } : {}) }, mode: 'continue' };
}

/** "Use This Frame": the saved PNG as the first frame (a new video from it) or the last (a video ending on it). */
export function frameArgs(png: string, as: 'first' | 'last'): OpenGeneratorArgs {
  return as === 'first' ? { prefill: { firstFrame: png }, mode: 'animate' } : { prefill: { lastFrame: png }, mode: 'morph' };
}
