// Real media files for tests, made with the ffmpeg binary the emulator ships with.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../src/ffmpeg/ffmpeg';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wan-${prefix}-`));
}

/** Runs the bundled ffmpeg quietly; throws with its error output when it fails. */
export async function ffmpeg(args: string[]): Promise<void> {
  const { code, stderr } = await runFfmpeg(['-y', '-loglevel', 'error', ...args], { timeoutMs: 60_000 });
  if (code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed:\n${stderr}`);
}

export async function makeImage(path: string, width: number, height: number, color = 'teal'): Promise<string> {
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=${width}x${height}:d=1,drawbox=c=${color}@0.5:t=20`, '-frames:v', '1', path]);
  return path;
}

/** A PNG with a half-transparent alpha channel, which the API refuses. */
export async function makeAlphaPng(path: string, width: number, height: number): Promise<string> {
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=${width}x${height}:d=1,format=rgba,colorchannelmixer=aa=0.5`, '-frames:v', '1', path]);
  return path;
}

export async function makeAudio(path: string, seconds: number): Promise<string> {
  await ffmpeg(['-f', 'lavfi', '-i', `sine=f=440:d=${seconds}`, path]);
  return path;
}

/** `fps` below 24 for a video only probed (its size and length), never played or cut: fewer frames to encode. */
export async function makeVideo(path: string, seconds: number, width = 320, height = 240, fps = 24): Promise<string> {
  await ffmpeg([
    '-f', 'lavfi', '-i', `testsrc2=s=${width}x${height}:r=${fps}:d=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path,
  ]);
  return path;
}

/** One of each input kind: 750x1000 first frame (the FAQ's example), last frame, 3 s audio, 3 s clip. */
export async function makeInputSet(dir: string) {
  const [firstFrame, lastFrame, audio, clip] = await Promise.all([
    makeImage(join(dir, 'first.png'), 750, 1000, 'orange'),
    makeImage(join(dir, 'last.jpg'), 750, 1000, 'purple'),
    makeAudio(join(dir, 'voice.mp3'), 3),
    makeVideo(join(dir, 'clip.mp4'), 3, 480, 640),
  ]);
  return { firstFrame, lastFrame, audio, clip };
}
