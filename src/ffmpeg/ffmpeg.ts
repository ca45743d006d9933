// Runs ffmpeg (no system ffmpeg needed) for the emulator's renders, the storyboard's cuts and assembly, and the
// tests' fixtures, by one of two backends:
// - native: the binary of @ffmpeg-installer/ffmpeg, a development dependency (fast; one binary per platform);
// - wasm: ffmpeg compiled to WebAssembly (@ffmpeg/core, copied beside the bundles by the production build),
//   run in a worker thread; the same file on every platform, so the VSIX carries no native binary.
// The native binary is used when it is installed; `WAN_FFMPEG=wasm|native` forces one.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { runWasmFfmpeg, WasmFfmpegCanceledError, WasmFfmpegTimeoutError } from './wasmFfmpeg';

let cached: string | null | undefined;

/** Path of the ffmpeg binary of @ffmpeg-installer/ffmpeg (made executable if npm skipped that), or undefined when it is not installed. */
export function nativeFfmpegPath(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const p = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (!existsSync(p)) throw new Error(`${p} is missing`);
    try {
      accessSync(p, constants.X_OK);
    } catch {
      chmodSync(p, statSync(p).mode | 0o755);
    }
    cached = p;
  } catch {
    cached = null; // not installed (the VSIX), or no build for this platform
  }
  return cached ?? undefined;
}

/** Path of the native ffmpeg binary; throws when it is not installed (see `ffmpegBackend`). */
export function ffmpegPath(): string {
  const p = nativeFfmpegPath();
  if (!p) throw new Error('the native ffmpeg (@ffmpeg-installer/ffmpeg) is not installed');
  return p;
}

export type FfmpegBackend = 'native' | 'wasm';

/** The backend in use: `WAN_FFMPEG` if set to native or wasm, else native when its binary is installed, else wasm. */
export function ffmpegBackend(): FfmpegBackend {
  const forced = process.env.WAN_FFMPEG;
  if (forced === 'wasm' || forced === 'native') return forced;
  return nativeFfmpegPath() ? 'native' : 'wasm';
}

/** Host files an ffmpeg command reads and writes (the wasm backend copies them in and out of its memory). */
export interface FfmpegFiles {
  inputs?: readonly string[];
  outputs?: readonly string[];
}

/**
 * Runs one ffmpeg command on host files with the current backend. `build` gets a function naming each
 * host file as ffmpeg sees it (itself for native; an in-memory name for wasm) and returns the arguments.
 */
export async function runFfmpegOn(
  files: FfmpegFiles,
  build: (name: (hostPath: string) => string) => string[],
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<FfmpegResult> {
  if (ffmpegBackend() === 'native') return runFfmpeg(build((p) => p), opts);
  const names = new Map<string, string>();
  const inputs = (files.inputs ?? []).map((host, i) => ({ host, mem: `/i${i}${extname(host).toLowerCase()}` }));
  const outputs = (files.outputs ?? []).map((host, i) => ({ host, mem: `/o${i}${extname(host).toLowerCase()}` }));
  for (const f of [...inputs, ...outputs]) names.set(f.host, f.mem);
  const name = (p: string) => {
    const n = names.get(p);
    if (!n) throw new Error(`${p} is not among the files of this ffmpeg command`);
    return n;
  };
  const args = ['-hide_banner', '-nostdin', ...build(name)];
  try {
    const r = await runWasmFfmpeg({ inputs, outputs, args, timeoutMs: opts.timeoutMs ?? 600_000, signal: opts.signal });
    return { code: r.code, stderr: r.log, timedOut: false };
  } catch (e) {
    if (e instanceof WasmFfmpegTimeoutError) return { code: null, stderr: e.message, timedOut: true };
    if (e instanceof WasmFfmpegCanceledError) return { code: null, stderr: e.message, timedOut: false };
    throw e;
  }
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
  const { code, stderr, timedOut } = await runFfmpegOn({ inputs: [path] }, (n) => ['-v', 'error', '-i', n(path), ...select, '-f', 'null', '-'], {
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
  const { stderr } = await runFfmpegOn({ inputs: [path] }, (n) => ['-i', n(path)], { timeoutMs: 20_000 });
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
