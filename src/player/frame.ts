// "Use This Frame": checks the PNG the page captured and writes it beside the video under a name that
// never overwrites anything. The page is not trusted: the PNG must be a whole, well-formed image of the
// video's own size, taken at a time inside the video. No vscode import.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { MAX_FRAME_PNG_BYTES } from '../protocol/player';
import { MediaProbeError, probeImage } from '../wan/media/image';

/** What the host measured of the video (never what the page says about it). */
export interface FrameVideo {
  width: number;
  height: number;
  durationSeconds: number;
}

/** The playhead may sit a little past the container's duration (the last frame's own length). */
const TIME_SLACK_S = 0.1;
/** Samples per pixel for each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes and checks the page's frame: at most MAX_FRAME_PNG_BYTES; a PNG whose chunks are whole (CRCs
 * included) from IHDR to an IEND that ends the data; image data that inflates to exactly the size IHDR
 * declares; that size both the page's claim and the video's; `time` inside the video. Throws with a reason.
 */
export async function decodeFramePng(base64: string, width: number, height: number, video: FrameVideo, time: number): Promise<Buffer> {
  if (!Number.isFinite(time) || time < 0 || time > video.durationSeconds + TIME_SLACK_S) {
    throw new Error(`the frame's time (${time} s) is not inside the video (0 to ${video.durationSeconds.toFixed(3)} s)`);
  }
  const png = Buffer.from(base64, 'base64');
  if (png.length > MAX_FRAME_PNG_BYTES) throw new Error(`the frame is ${png.length} bytes, over the ${MAX_FRAME_PNG_BYTES} byte limit`);
  let info;
  try {
    info = await probeImage(png);
  } catch (error) {
    if (error instanceof MediaProbeError) throw new Error(`the frame is not a valid PNG: ${error.message}`, { cause: error });
    throw error;
  }
  if (info?.format !== 'png') throw new Error('the frame is not a PNG image');
  if (info.width !== width || info.height !== height) throw new Error(`the PNG is ${info.width}x${info.height}, not the ${width}x${height} the page reported`);
  if (width !== video.width || height !== video.height) throw new Error(`the PNG is ${width}x${height}, but the video is ${video.width}x${video.height}`);
  checkImageData(png);
  return png;
}

/** The chunks end with IEND at the end of the data, and the IDAT stream inflates to exactly IHDR's size. */
function checkImageData(png: Buffer): void {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [bitDepth = 0, colourType = 0, , , interlace = 0] = png.subarray(24, 29);
  const channels = CHANNELS[colourType];
  if (!channels || interlace !== 0) throw new Error('the frame is not a plain (non-interlaced) PNG as a canvas makes it');
  const expected = height * (1 + Math.ceil((width * channels * bitDepth) / 8));
  const idat: Buffer[] = [];
  let pos = 8;
  for (;;) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
    if (type === 'IEND') break;
  }
  if (pos !== png.length) throw new Error(`the frame has ${png.length - pos} bytes after the end of its PNG image`);
  let pixels: Buffer;
  try {
    pixels = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    throw new Error(`the frame's image data does not decode to the ${width}x${height} image its header declares`);
  }
  if (pixels.length !== expected) throw new Error(`the frame's image data does not decode to the ${width}x${height} image its header declares`);
}

/** `clip-frame-00m03s250.png` for 3.25 s into clip.mp4. */
export function frameFileName(video: string, seconds: number, attempt = 0): string {
  const ms = Math.round(seconds * 1000);
  const mm = String(Math.floor(ms / 60000)).padStart(2, '0');
  const ss = String(Math.floor((ms % 60000) / 1000)).padStart(2, '0');
  const rest = String(ms % 1000).padStart(3, '0');
  const base = basename(video, extname(video));
  return `${base}-frame-${mm}m${ss}s${rest}${attempt ? `-${attempt + 1}` : ''}.png`;
}

/** The video a frame named by frameFileName was taken from, beside it (as an MP4, as saved videos are); else undefined. */
export function videoOfFrame(frame: string): string | undefined {
  const m = /^(.+)-frame-\d{2,}m\d{2}s\d{3}(?:-\d+)?\.png$/i.exec(basename(frame));
  return m ? join(dirname(frame), `${m[1]}.mp4`) : undefined;
}

/** Writes the PNG beside the video; an existing file of that name is never replaced (exclusive create). */
export async function writeFrameBeside(video: string, seconds: number, png: Buffer): Promise<string> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const target = join(dirname(video), frameFileName(video, seconds, attempt));
    try {
      await writeFile(target, png, { flag: 'wx' });
      return target;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('no free file name for the frame');
}
