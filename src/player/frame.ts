// "Use This Frame": checks the PNG the page captured and writes it beside the video under a name that
// never overwrites anything. No vscode import.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { MAX_FRAME_PNG_BYTES } from '../protocol/player';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes and checks the page's PNG: signature, IHDR first, and the size the page claims. Throws with a reason. */
export function decodeFramePng(base64: string, width: number, height: number): Buffer {
  const png = Buffer.from(base64, 'base64');
  if (png.length > MAX_FRAME_PNG_BYTES) throw new Error(`the frame is ${png.length} bytes, over the ${MAX_FRAME_PNG_BYTES} byte limit`);
  if (png.length < 33 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('the frame is not a PNG image');
  }
  const w = png.readUInt32BE(16);
  const h = png.readUInt32BE(20);
  if (w !== width || h !== height) throw new Error(`the PNG is ${w}x${h}, not the ${width}x${height} the page reported`);
  return png;
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
