// Checks a local media file against the API's documented limits before anything is sent.
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { AUDIO, IMAGE, MB, VIDEO } from '../limits';
import { WanValidationError } from '../errors';
import { parseDataUri } from '../schema';
import { probeAudio, type AudioInfo } from './audio';
import { MediaProbeError, describeUnsupportedImage, probeImage, type ImageInfo } from './image';
import { probeVideo, type VideoInfo } from './video';

export type ImageMediaType = 'first_frame' | 'last_frame';
export type LocalMediaType = ImageMediaType | 'driving_audio' | 'first_clip';

export interface LocalMediaInfo {
  first_frame: ImageInfo;
  last_frame: ImageInfo;
  driving_audio: AudioInfo;
  first_clip: VideoInfo;
}

const LABEL: Record<LocalMediaType, string> = {
  first_frame: 'the first frame',
  last_frame: 'the last frame',
  driving_audio: 'driving audio',
  first_clip: 'the first clip',
};

/** The request field a media type's problems are reported under. */
export function mediaField(type: LocalMediaType): string {
  return `input.media[${type}]`;
}

/** "20.3 MB (21,290,188 bytes)" style size, precise enough to show why it is over a limit. */
function fmtBytes(bytes: number): string {
  const mb = bytes / MB;
  const s = mb >= 10 ? mb.toFixed(1) : mb >= 0.1 ? mb.toFixed(2) : `${(bytes / 1024).toFixed(1)} KB`;
  return mb >= 0.1 ? `${s} MB (${bytes.toLocaleString('en-US')} bytes)` : `${s} (${bytes.toLocaleString('en-US')} bytes)`;
}

/** Rounds to 1 decimal, or more when that would make a value outside [min, max] look like it is on the boundary. */
function fmtNum(v: number, min: number, max: number): string {
  for (let d = 1; d <= 4; d++) {
    const s = v.toFixed(d);
    const r = Number(s);
    if (!((v < min && r >= min) || (v > max && r <= max))) return s;
  }
  return String(v);
}

function fmtAspect(w: number, h: number, max: number): string {
  return w >= h ? `${fmtNum(w / h, 0, max)}:1` : `1:${fmtNum(h / w, 0, max)}`;
}

/** Checks that the path is a readable regular file; returns its size. Throws WanValidationError otherwise. */
async function statFile(field: string, name: string, path: string): Promise<number> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw WanValidationError.one(field, `${name} was not found (${path})`);
    throw WanValidationError.one(field, `${name} cannot be read (${code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) throw WanValidationError.one(field, `${name} is a folder, not a file (${path})`);
  if (!st.isFile()) throw WanValidationError.one(field, `${name} is not a regular file (${path})`);
  if (st.size === 0) throw WanValidationError.one(field, `${name} is empty (0 bytes)`);
  try {
    await fsp.access(path, fsConstants.R_OK);
  } catch (e) {
    throw WanValidationError.one(field, `${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return st.size;
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Runs a probe, turning I/O and structure errors into a WanValidationError for `field`; `also` adds
 * problems already known (an oversized file is both), so every violation is reported at once.
 */
async function runProbe<T>(field: string, name: string, what: string, probe: () => Promise<T>, also: (string | undefined)[] = []): Promise<T> {
  try {
    return await probe();
  } catch (e) {
    if (e instanceof WanValidationError) throw e;
    if (e instanceof MediaProbeError) {
      fail(field, [`${name} cannot be read as ${what}: ${e.message}`, ...also]);
    }
    const code = (e as NodeJS.ErrnoException).code;
    throw WanValidationError.one(field, `${name} cannot be read (${code ?? (e as Error).message})`);
  }
}

function sizeIssue(name: string, bytes: number, max: number, kind: string): string | undefined {
  return bytes > max ? `${name} is ${fmtBytes(bytes)}; ${kind} files must be at most ${max / MB} MB` : undefined;
}

function dimIssues(
  name: string,
  width: number,
  height: number,
  lim: { minSide: number; maxSide: number; maxAspect: number },
): string[] {
  const out: string[] = [];
  if (width < lim.minSide || height < lim.minSide || width > lim.maxSide || height > lim.maxSide) {
    out.push(`${name} is ${width}x${height} px; width and height must each be between ${lim.minSide} and ${lim.maxSide} px`);
  }
  if (width > 0 && height > 0) {
    const ratio = Math.max(width / height, height / width);
    if (ratio > lim.maxAspect) {
      out.push(
        `${name} has aspect ${fmtAspect(width, height, lim.maxAspect)} (${width}x${height} px); it must be between 1:${lim.maxAspect} and ${lim.maxAspect}:1`,
      );
    }
  }
  return out;
}

function durationIssue(name: string, seconds: number, min: number, max: number, what: string): string | undefined {
  if (seconds >= min && seconds <= max) return undefined;
  return `${name} is ${fmtNum(seconds, min, max)} s long; ${what} must be ${min}–${max} s`;
}

function fail(field: string, messages: (string | undefined)[]): void {
  const issues = messages.filter((m): m is string => !!m).map((message) => ({ field, message }));
  if (issues.length) throw new WanValidationError(issues);
}

/** Checks probed image facts against the image limits; returns the messages of every violation. */
export function imageIssues(name: string, info: ImageInfo): string[] {
  const out: string[] = [];
  const s = sizeIssue(name, info.bytes, IMAGE.maxBytes, 'image');
  if (s) out.push(s);
  out.push(...dimIssues(name, info.width, info.height, IMAGE));
  // Only PNG alpha is documented as refused; WEBP/BMP transparency is reported by the probe but accepted.
  if (info.format === 'png' && info.hasAlpha) {
    out.push(`${name} has an alpha channel (transparency); the API refuses PNGs with alpha — flatten it or save as JPEG`);
  }
  // Plain WEBP decoders (libwebp's WebPDecode) refuse animations; the API documents still images.
  if (info.animated) {
    out.push(`${name} is an animated ${info.format.toUpperCase()}; the API takes still images — export a single frame as PNG or JPEG`);
  }
  return out;
}

async function validateImage(type: ImageMediaType, path: string): Promise<ImageInfo> {
  const field = mediaField(type);
  const name = basename(path);
  const bytes = await statFile(field, name, path);
  const info = await runProbe(field, name, 'an image', () => probeImage(path), [sizeIssue(name, bytes, IMAGE.maxBytes, 'image')]);
  if (!info) {
    const head = await runProbe(field, name, 'an image', () => readHead(path, 1024));
    const what = describeUnsupportedImage(head);
    fail(field, [
      `${name} is ${what ?? 'not a recognised image'} (judged by its contents, not its name); ` +
        `${LABEL[type]} must be a JPEG, PNG (without alpha), BMP or WEBP image`,
      sizeIssue(name, bytes, IMAGE.maxBytes, 'image'),
    ]);
  }
  const img = info as ImageInfo;
  fail(field, imageIssues(name, img));
  return img;
}

async function validateAudio(path: string): Promise<AudioInfo> {
  const field = mediaField('driving_audio');
  const name = basename(path);
  const bytes = await statFile(field, name, path);
  const info = await runProbe(field, name, 'audio', () => probeAudio(path), [sizeIssue(name, bytes, AUDIO.maxBytes, 'audio')]);
  if (!info) {
    fail(field, [`${name} is not a WAV or MP3 file (judged by its contents); driving audio must be wav or mp3`, sizeIssue(name, bytes, AUDIO.maxBytes, 'audio')]);
  }
  const a = info as AudioInfo;
  fail(field, [
    sizeIssue(name, a.bytes, AUDIO.maxBytes, 'audio'),
    durationIssue(name, a.durationSeconds, AUDIO.minSeconds, AUDIO.maxSeconds, LABEL.driving_audio),
  ]);
  return a;
}

async function validateVideo(path: string): Promise<VideoInfo> {
  const field = mediaField('first_clip');
  const name = basename(path);
  const bytes = await statFile(field, name, path);
  const info = await runProbe(field, name, 'an MP4/MOV video', () => probeVideo(path), [sizeIssue(name, bytes, VIDEO.maxBytes, 'video')]);
  if (!info) {
    fail(field, [`${name} is not an MP4 or MOV file (judged by its contents); the first clip must be mp4 or mov`, sizeIssue(name, bytes, VIDEO.maxBytes, 'video')]);
  }
  const v = info as VideoInfo;
  fail(field, [
    sizeIssue(name, v.bytes, VIDEO.maxBytes, 'video'),
    durationIssue(name, v.durationSeconds, VIDEO.minSeconds, VIDEO.maxSeconds, LABEL.first_clip),
    ...(v.hasVideoTrack
      ? dimIssues(name, v.width, v.height, VIDEO)
      : [`${name} has no video track; the first clip must contain video`]),
  ]);
  return v;
}

/**
 * Probes a local file for a media slot and checks every documented limit.
 * Returns the probe result, or throws a WanValidationError (field `input.media[<type>]`) listing every violation.
 */
export async function validateLocalMedia<T extends LocalMediaType>(type: T, path: string): Promise<LocalMediaInfo[T]>;
export async function validateLocalMedia(type: LocalMediaType, path: string): Promise<ImageInfo | AudioInfo | VideoInfo> {
  switch (type) {
    case 'first_frame':
    case 'last_frame':
      return validateImage(type, path);
    case 'driving_audio':
      return validateAudio(path);
    case 'first_clip':
      return validateVideo(path);
    default:
      throw WanValidationError.one('input.media', `unknown media type "${String(type)}"`);
  }
}

/**
 * Reads a local image once and checks it like validateLocalMedia: its bytes (to send or to know it by) and
 * what the probe found, so nothing checks one read of a file and uses another.
 */
export async function readCheckedImage(path: string, type: ImageMediaType = 'first_frame'): Promise<{ bytes: Buffer; info: ImageInfo }> {
  const field = mediaField(type);
  const name = basename(path);
  const bytes = await statFile(field, name, path);
  if (bytes > IMAGE.maxBytes) fail(field, [sizeIssue(name, bytes, IMAGE.maxBytes, 'image')]);
  const data = await runProbe(field, name, 'an image', () => fsp.readFile(path));
  const info = await runProbe(field, name, 'an image', () => probeImage(data));
  if (!info) {
    const what = describeUnsupportedImage(data.subarray(0, 1024));
    fail(field, [`${name} is ${what ?? 'not a recognised image'} (judged by its contents, not its name); ${LABEL[type]} must be a JPEG, PNG (without alpha), BMP or WEBP image`]);
  }
  const img = info as ImageInfo;
  fail(field, imageIssues(name, img));
  return { bytes: data, info: img };
}

/**
 * A local image, checked as by {@link readCheckedImage}, as `data:{mime};base64,...` (the MIME type sniffed
 * from its contents, never from its extension) with what the probe found.
 */
export async function readImageAsDataUri(path: string, type: ImageMediaType = 'first_frame'): Promise<{ dataUri: string; info: ImageInfo }> {
  const { bytes, info } = await readCheckedImage(path, type);
  return { dataUri: `data:${info.mime};base64,${bytes.toString('base64')}`, info };
}

/** {@link readImageAsDataUri} when only the URI is wanted. */
export async function imageToDataUri(path: string, type: ImageMediaType = 'first_frame'): Promise<string> {
  return (await readImageAsDataUri(path, type)).dataUri;
}

/**
 * Checks the image inside a `data:` URI like a local file: its bytes are here, so the service's
 * refusal (and a wasted task) can be foreseen. The declared MIME type must match the contents.
 */
export async function validateDataUriImage(type: ImageMediaType, uri: string): Promise<ImageInfo> {
  const field = mediaField(type);
  const parsed = parseDataUri(uri);
  if (!parsed) throw WanValidationError.one(field, 'a data URI must have the form data:{MIME type};base64,{data}');
  const declared = parsed.mime === 'image/jpg' ? 'image/jpeg' : parsed.mime;
  const data = Buffer.from(parsed.base64, 'base64');
  const name = `the ${type.replace('_', ' ')} data URI`;
  const info = await runProbe(field, name, 'an image', () => probeImage(data));
  if (!info) {
    const what = describeUnsupportedImage(data.subarray(0, 1024));
    fail(field, [`${name} holds ${what ?? 'no recognised image'}; ${LABEL[type]} must be a JPEG, PNG (without alpha), BMP or WEBP image`]);
  }
  const img = info as ImageInfo;
  fail(field, [
    ...imageIssues(name, img),
    declared === img.mime ? undefined : `${name} says ${declared} but holds ${img.mime} data; the MIME type must match the contents`,
  ]);
  return img;
}
