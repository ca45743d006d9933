// Locates the bundled ffmpeg binary (no system ffmpeg needed) and runs it.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';

let cached: string | undefined;

/** Path of the ffmpeg binary shipped by @ffmpeg-installer/ffmpeg, made executable if npm skipped that. */
export function ffmpegPath(): string {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const p = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  try {
    accessSync(p, constants.X_OK);
  } catch {
    chmodSync(p, statSync(p).mode | 0o755);
  }
  cached = p;
  return p;
}

export interface FfmpegResult {
  code: number | null;
  stderr: string;
  /** Killed for running past `timeoutMs`. */
  timedOut: boolean;
}

/** Runs ffmpeg with the given arguments; resolves with its exit code and (the tail of) stderr. */
export function runFfmpeg(args: readonly string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<FfmpegResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
    });
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    const kill = () => child.kill('SIGKILL');
    if (opts.signal?.aborted) kill();
    else opts.signal?.addEventListener('abort', kill, { once: true });
    const done = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code) => {
      done();
      resolve({ code, stderr, timedOut });
    });
  });
}

/**
 * Decodes the first video frame (or first second of audio) of a file; returns ffmpeg's last complaint
 * when nothing decodes (for the log: it names the file). A file can be well-formed yet undecodable
 * (scrambled image data under correct CRCs), and looping such an image (`-loop 1`) spins ffmpeg
 * forever instead of failing.
 */
export async function decodeProblem(path: string, kind: 'video' | 'audio', opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string | undefined> {
  const select = kind === 'video' ? ['-map', '0:v:0', '-frames:v', '1'] : ['-map', '0:a:0', '-t', '1'];
  const { code, stderr, timedOut } = await runFfmpeg(['-v', 'error', '-i', path, ...select, '-f', 'null', '-'], {
    timeoutMs: opts.timeoutMs ?? 20_000,
    signal: opts.signal,
  });
  if (code === 0) return undefined;
  if (timedOut) return 'decoding it took too long';
  return stderr.trim().split('\n').pop() || `ffmpeg exited with ${code}`;
}

export interface MediaInfo {
  durationSeconds?: number;
  video?: { codec: string; width: number; height: number; fps?: number };
  audio?: { codec: string };
  comment?: string;
}

/** Reads what `ffmpeg -i` says about a file (container duration, first video and audio stream). */
export async function inspectMedia(path: string): Promise<MediaInfo> {
  const { stderr } = await runFfmpeg(['-i', path], { timeoutMs: 20_000 });
  const info: MediaInfo = {};
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  if (d) info.durationSeconds = +d[1]! * 3600 + +d[2]! * 60 + +d[3]!;
  const v = /Stream #\d+:\d+(?:\[\w+\])?(?:\(\w+\))?: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*/.exec(stderr);
  if (v) {
    const fps = /(\d+(?:\.\d+)?) fps/.exec(v[0]);
    info.video = { codec: v[1]!, width: +v[2]!, height: +v[3]!, ...(fps ? { fps: +fps[1]! } : {}) };
  }
  const a = /Stream #\d+:\d+(?:\[\w+\])?(?:\(\w+\))?: Audio: (\w+)/.exec(stderr);
  if (a) info.audio = { codec: a[1]! };
  const c = /^\s*comment\s*: (.*)$/m.exec(stderr);
  if (c) info.comment = c[1]!.trim();
  return info;
}
