// The sound preview: a copy of a video whose audio is MP3 (which every VS Code webview decodes; desktop
// VS Code cannot decode AAC, microsoft/vscode#162062 and #167685), with the video stream copied, not
// re-encoded. It lives in a cache folder the caller owns (the extension's global storage), never beside the
// user's file, and is keyed by the file's path, size and modification time. No vscode import.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { memfsNames, runWasmFfmpeg } from '../ffmpeg/wasmFfmpeg';
import { probeVideo } from '../wan/media/video';

/**
 * MP3 rather than Opus or FLAC: VS Code's own codec list (microsoft/vscode#180780) names MP3, Vorbis and FLAC
 * but not Opus, and a maintainer confirmed an MP4 with an MP3 track plays with sound (#162062).
 */
export const PREVIEW_AUDIO_CODEC = 'mp3';
const PREVIEW_AUDIO_BITRATE = '160k';
/** The in-memory file system holds input and output at once: refuse what cannot sensibly fit. */
export const MAX_PREVIEW_INPUT_BYTES = 512 * 1024 * 1024;
/** Previews kept; older ones are removed when a new one is made. */
const KEEP_PREVIEWS = 24;

export class PreviewError extends Error {
  constructor(
    readonly reason: 'no-audio' | 'too-large' | 'not-a-video' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'PreviewError';
  }
}

export interface AudioPreview {
  /** The preview file (in the cache folder). */
  path: string;
  /** True when an earlier preview of the same file (same path, size and mtime) was reused. */
  cached: boolean;
  /** Time spent converting (0 when cached). */
  elapsedMs: number;
  bytes: number;
  /** The original's audio codec, e.g. `aac`. */
  sourceCodec: string;
}

export interface AudioPreviewOptions {
  file: string;
  cacheDir: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The cache key: the file's absolute path, size and mtime, so an edited or replaced file gets a new preview. */
export function previewKey(file: string, size: number, mtimeMs: number): string {
  return createHash('sha256').update(`${resolve(file)}\n${size}\n${Math.round(mtimeMs)}`).digest('hex').slice(0, 32);
}

const inFlight = new Map<string, Promise<AudioPreview>>();

/** Makes (or reuses) the MP3-audio preview of `file`. Throws PreviewError. Concurrent calls share one conversion. */
export async function makeAudioPreview(opts: AudioPreviewOptions): Promise<AudioPreview> {
  let st;
  try {
    st = await stat(opts.file);
  } catch (e) {
    throw new PreviewError('failed', `cannot read ${opts.file}: ${(e as Error).message}`);
  }
  const key = previewKey(opts.file, st.size, st.mtimeMs);
  const target = join(opts.cacheDir, `${key}.mp4`);
  const running = inFlight.get(target);
  if (running) return running;
  const job = convert(opts, st.size, target).finally(() => inFlight.delete(target));
  inFlight.set(target, job);
  return job;
}

async function convert(opts: AudioPreviewOptions, size: number, target: string): Promise<AudioPreview> {
  const info = await probeVideo(opts.file).catch((e: Error) => {
    throw new PreviewError('not-a-video', e.message);
  });
  if (!info || !info.hasVideoTrack) throw new PreviewError('not-a-video', `${opts.file} is not an MP4/MOV video`);
  if (!info.audio) throw new PreviewError('no-audio', `${opts.file} has no audio track`);
  const sourceCodec = info.audio.codec;

  const existing = await stat(target).catch(() => undefined);
  if (existing && existing.size > 0) {
    const now = new Date();
    await utimes(target, now, now).catch(() => undefined); // most recently used: kept longest
    return { path: target, cached: true, elapsedMs: 0, bytes: existing.size, sourceCodec };
  }
  if (size > MAX_PREVIEW_INPUT_BYTES) {
    throw new PreviewError('too-large', `${opts.file} is ${Math.round(size / 2 ** 20)} MB; sound previews are made for files up to ${MAX_PREVIEW_INPUT_BYTES / 2 ** 20} MB`);
  }

  await mkdir(opts.cacheDir, { recursive: true });
  const partial = join(opts.cacheDir, `${randomBytes(6).toString('hex')}.partial.mp4`);
  const names = memfsNames(opts.file, partial);
  const started = Date.now();
  try {
    const result = await runWasmFfmpeg({
      input: opts.file,
      output: partial,
      // Video copied bit for bit; only the first audio track is re-encoded. faststart so playback starts at once.
      args: ['-i', names.input, '-map', '0:v:0', '-map', '0:a:0', '-c:v', 'copy', '-c:a', 'libmp3lame', '-b:a', PREVIEW_AUDIO_BITRATE,
        '-map_metadata', '0', '-movflags', '+faststart', names.output],
      timeoutMs: opts.timeoutMs ?? 300_000,
      signal: opts.signal,
    });
    if (result.code !== 0) {
      const tail = result.log.trim().split('\n').slice(-4).join('\n');
      throw new PreviewError('failed', `ffmpeg exited with ${result.code}: ${tail}`);
    }
    await rename(partial, target); // atomic: a reader never sees half a preview
  } catch (e) {
    await rm(partial, { force: true });
    throw e instanceof PreviewError ? e : new PreviewError('failed', (e as Error).message);
  }
  const elapsedMs = Date.now() - started;
  await prune(opts.cacheDir, target);
  return { path: target, cached: false, elapsedMs, bytes: (await stat(target)).size, sourceCodec };
}

/** Keeps the newest KEEP_PREVIEWS previews (and removes partial files older than an hour). */
async function prune(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = await Promise.all(
    names.filter((n) => n.endsWith('.mp4')).map(async (n) => ({ path: join(dir, n), partial: n.endsWith('.partial.mp4'), st: await stat(join(dir, n)).catch(() => undefined) })),
  );
  const hourAgo = Date.now() - 3_600_000;
  const previews = files.filter((f) => f.st && !f.partial && f.path !== keep).sort((a, b) => b.st!.mtimeMs - a.st!.mtimeMs);
  const stale = [...previews.slice(KEEP_PREVIEWS - 1), ...files.filter((f) => f.partial && f.st && f.st.mtimeMs < hourAgo)];
  await Promise.all(stale.map((f) => rm(f.path, { force: true })));
}
