// Joins a board's clips into one film with ffmpeg: in order, a keyframe shared by two shots once (the second
// shot's first frame is skipped), a continuation's overlap once (its first seconds are skipped), and the
// soundtrack under the whole film when there is one. Re-encodes: clips of one board may differ in size.
import { inspectMedia, runFfmpegOn } from '../ffmpeg/ffmpeg';
import type { Plan, ShotPlan } from './plan';

/** A clip's frame rate when ffmpeg does not say it. */
const FALLBACK_FPS = 30;

export interface FilmPart {
  video: string;
  skip: ShotPlan['skip'];
}

/** What ffmpeg needs to know of each clip to join them. */
export interface ClipFacts {
  seconds: number;
  width: number;
  height: number;
  fps: number;
  hasAudio: boolean;
}

export interface FilmLayout {
  width: number;
  height: number;
  fps: number;
  /** Seconds of each part in the film, after its skip. */
  parts: number[];
  seconds: number;
}

/** Whole frames of a clip the film skips: trimming by frame never keeps half of a repeated frame. */
function skipFrames(skip: FilmPart['skip'], fps: number): number {
  if (!skip) return 0;
  return 'frames' in skip ? skip.frames : Math.round(skip.seconds * fps);
}

/** The film's frame (the first clip's), and where every part lands. */
export function layoutFilm(parts: readonly FilmPart[], clips: readonly ClipFacts[]): FilmLayout {
  const head = clips[0];
  if (!head) throw new Error('a film needs at least one clip');
  const seconds = parts.map((p, i) => Math.max(0, clips[i]!.seconds - skipFrames(p.skip, head.fps) / head.fps));
  return { width: head.width, height: head.height, fps: head.fps, parts: seconds, seconds: seconds.reduce((a, b) => a + b, 0) };
}

const n3 = (v: number) => Number(v.toFixed(3)).toString();

/** ffmpeg arguments for the film; `name` maps a host path to what ffmpeg sees (see runFfmpegOn). */
export function assemblyArgs(
  parts: readonly FilmPart[],
  clips: readonly ClipFacts[],
  out: string,
  name: (path: string) => string,
  soundtrack?: string,
): string[] {
  const film = layoutFilm(parts, clips);
  const { width: w, height: h, fps } = film;
  const inputs = parts.flatMap((p) => ['-i', name(p.video)]);
  if (soundtrack) inputs.push('-i', name(soundtrack));
  const filters: string[] = [];
  const joins: string[] = [];
  parts.forEach((part, i) => {
    const clip = clips[i]!;
    // Converted to the film's rate first (an `fps` after the trim would repeat a segment's last frame).
    const frames = skipFrames(part.skip, fps);
    filters.push(
      `[${i}:v]fps=${fps}:eof_action=pass,trim=start_frame=${frames},setpts=PTS-STARTPTS,scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v${i}]`,
    );
    const from = n3(frames / fps);
    filters.push(
      clip.hasAudio && !soundtrack
        ? `[${i}:a]atrim=start=${from},asetpts=PTS-STARTPTS,aresample=48000,aformat=channel_layouts=stereo,apad,atrim=0:${n3(film.parts[i]!)}[a${i}]`
        : `anullsrc=r=48000:cl=stereo,atrim=0:${n3(film.parts[i]!)}[a${i}]`,
    );
    joins.push(`[v${i}][a${i}]`);
  });
  filters.push(`${joins.join('')}concat=n=${parts.length}:v=1:a=1[v][joined]`);
  if (soundtrack) {
    // The soundtrack replaces the clips' own sound, padded with silence when the film is longer.
    filters.push(`[${parts.length}:a]aresample=48000,aformat=channel_layouts=stereo,apad,atrim=0:${n3(film.seconds)},asetpts=PTS-STARTPTS[music]`);
    filters.push('[joined]anullsink');
  }
  const audio = soundtrack ? '[music]' : '[joined]';
  return [
    '-y', ...inputs,
    '-filter_complex', filters.join(';'),
    '-map', '[v]', '-map', audio,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '160k',
    '-t', n3(film.seconds),
    '-movflags', '+faststart',
    name(out),
  ];
}

export class AssemblyError extends Error {}

/** The clips of a plan in film order; throws when a shot has no clip yet. */
export function filmParts(plan: Plan): FilmPart[] {
  return plan.shots.map((s) => {
    if (!s.made) throw new AssemblyError(`shot ${s.id} has no clip yet: generate it first`);
    return { video: s.made.video, skip: s.skip };
  });
}

/** Video frames of a clip, counted from its packets (no decoding). */
async function videoFrames(video: string): Promise<number | undefined> {
  const { code, stderr } = await runFfmpegOn({ inputs: [video] }, (n) => ['-i', n(video), '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], { timeoutMs: 60_000 });
  const frames = code === 0 ? /frame=\s*(\d+)/.exec(stderr.slice(stderr.lastIndexOf('frame=')))?.[1] : undefined;
  return frames ? Number(frames) : undefined;
}

async function clipFacts(video: string): Promise<ClipFacts> {
  const [info, frames] = await Promise.all([inspectMedia(video), videoFrames(video)]);
  if (!info.video || !info.durationSeconds) throw new AssemblyError(`${video} is not a readable video`);
  const { width, height } = info.video;
  const fps = info.video.fps ?? FALLBACK_FPS;
  // The picture's length, not the container's: an AAC track usually runs a few hundredths longer.
  return { seconds: frames ? frames / fps : info.durationSeconds, width, height, fps, hasAudio: !!info.audio };
}

/** Writes the film to `out`; resolves with its layout. Cancel with `signal`. */
export async function assembleFilm(
  parts: readonly FilmPart[],
  out: string,
  opts: { soundtrack?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<FilmLayout> {
  if (parts.length === 0) throw new AssemblyError('a film needs at least one clip');
  const clips = await Promise.all(parts.map((p) => clipFacts(p.video)));
  const inputs = [...parts.map((p) => p.video), ...(opts.soundtrack ? [opts.soundtrack] : [])];
  const result = await runFfmpegOn({ inputs, outputs: [out] }, (name) => assemblyArgs(parts, clips, out, name, opts.soundtrack), {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs ?? 600_000,
  });
  if (opts.signal?.aborted) throw new AssemblyError('assembly canceled');
  if (result.code !== 0) throw new AssemblyError(`ffmpeg could not join the clips: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return layoutFilm(parts, clips);
}
