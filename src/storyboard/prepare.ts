// From a board on disk to what the plan and the task layer need: the identity of every source (by content,
// so a renamed file is the same keyframe and an edited one is not), the media checks beside the shot, and
// a shot's request as the one request builder takes it, with the continuation's clip and the soundtrack's
// slice cut locally.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runFfmpegOn } from '../ffmpeg/ffmpeg';
import { WanValidationError } from '../wan/errors';
import { probeAudio, readCheckedImage } from '../wan/media';
import { isUrl, type GenerationInput } from '../wan/request';
import type { Board } from './board';
import { boardSources, type ShotRequest, type SourceFact } from './plan';

/** A source as the board writes it, relative to the board's folder, or a URL as it is. */
export function resolveSource(boardDir: string, source: string): string {
  return isUrl(source) ? source : resolve(boardDir, source);
}

function hashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 24);
}

function unreadable(source: string, error: unknown): string {
  if (error instanceof WanValidationError) return error.issues.map((i) => i.message).join('; ');
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${source} was not found (paths are relative to the board's folder)`;
  return `${source} could not be read: ${error instanceof Error ? error.message : String(error)}`;
}

async function keyframeFact(boardDir: string, source: string): Promise<SourceFact> {
  if (isUrl(source)) return { key: `url:${source}` };
  const path = resolveSource(boardDir, source);
  try {
    return { key: hashOf((await readCheckedImage(path)).bytes) };
  } catch (e) {
    return { problem: unreadable(source, e) };
  }
}

/** The whole soundtrack is never sent (only slices of it), so any length of WAV or MP3 will do. */
async function soundtrackFact(boardDir: string, source: string): Promise<SourceFact> {
  if (isUrl(source)) return { key: `url:${source}` };
  try {
    const bytes = await readFile(resolveSource(boardDir, source));
    const info = await probeAudio(bytes);
    if (!info) return { problem: `${source} is not a WAV or MP3 file` };
    return { key: hashOf(bytes), seconds: info.durationSeconds };
  } catch (e) {
    return { problem: unreadable(source, e) };
  }
}

/** Checks every source the board names; the plan puts each problem beside the shot that uses it. */
export async function checkSources(board: Board, boardDir: string): Promise<Map<string, SourceFact>> {
  const sources = boardSources(board);
  const facts = await Promise.all(
    sources.map((s) => (s === board.settings.soundtrack ? soundtrackFact(boardDir, s) : keyframeFact(boardDir, s))),
  );
  return new Map(sources.map((s, i) => [s, facts[i]!]));
}

async function ffmpegTo(input: string, out: string, args: (name: (p: string) => string) => string[], what: string): Promise<string> {
  const result = await runFfmpegOn({ inputs: [input], outputs: [out] }, args, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`could not cut ${what}: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  return out;
}

/** The last `seconds` of a clip, re-encoded so it starts on a frame of its own (a stream copy starts on a keyframe). */
export function cutClipEnd(video: string, seconds: number, out: string): Promise<string> {
  return ffmpegTo(
    video,
    out,
    (n) => ['-y', '-sseof', `-${seconds}`, '-i', n(video), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-c:a', 'aac', n(out)],
    `the last ${seconds} s of ${video}`,
  );
}

/** `seconds` of the soundtrack from `from`, as WAV (the API takes WAV and MP3; WAV cuts exactly). */
export function cutAudio(audio: string, from: number, seconds: number, out: string): Promise<string> {
  return ffmpegTo(audio, out, (n) => ['-y', '-ss', String(from), '-t', String(seconds), '-i', n(audio), '-ac', '2', '-ar', '44100', n(out)], `${seconds} s of ${audio}`);
}

export interface ShotFiles {
  boardDir: string;
  /** Where the cut clip and audio slice go (kept until the task has ended: see removeCuts). */
  workDir: string;
  /** The saved clip of a shot this one continues. */
  clipOf(shotId: string): string | undefined;
}

/** The files shotInput cuts for a shot: the only ones removeCuts deletes. */
function cutPaths(shotId: string, workDir: string): { clip: string; audio: string } {
  return { clip: join(workDir, `${shotId}-first-clip.mp4`), audio: join(workDir, `${shotId}-audio.wav`) };
}

/** Deletes a shot's cut clip and audio slice, and its work folder once empty; nothing else is touched. */
export async function removeCuts(shotId: string, workDir: string): Promise<void> {
  const { clip, audio } = cutPaths(shotId, workDir);
  await Promise.all([rm(clip, { force: true }), rm(audio, { force: true })]);
  // Another shot's cuts may share the folder: only an empty one goes.
  await rmdir(workDir).catch(() => undefined);
}

/** A shot's request as the one request builder (prepareRequest) takes it. */
export async function shotInput(shotId: string, request: ShotRequest, files: ShotFiles): Promise<GenerationInput> {
  await mkdir(files.workDir, { recursive: true });
  const input: GenerationInput = {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    seed: request.seed,
    resolution: request.resolution,
    duration: request.duration,
    promptExtend: request.promptExtend,
    watermark: request.watermark,
  };
  if (request.firstFrame) input.firstFrame = resolveSource(files.boardDir, request.firstFrame);
  if (request.lastFrame) input.lastFrame = resolveSource(files.boardDir, request.lastFrame);
  if (request.firstClip) {
    const clip = files.clipOf(request.firstClip.shotId);
    if (!clip) throw new Error(`shot ${request.firstClip.shotId} has no clip yet: shot ${shotId} continues it`);
    input.firstClip = await cutClipEnd(clip, request.firstClip.seconds, cutPaths(shotId, files.workDir).clip);
  }
  if (request.drivingAudio) {
    const { source, from, seconds } = request.drivingAudio;
    const path = resolveSource(files.boardDir, source);
    input.drivingAudio = isUrl(path) ? path : await cutAudio(path, from, seconds, cutPaths(shotId, files.workDir).audio);
  }
  return input;
}
