// JPEG: segments walked to EOI (entropy-coded data skipped), the frame size and the EXIF orientation.
import { damaged, n, truncated, type ByteSource, type ProbedImage } from './source';
import { ReadWindow } from './window';

/** EXIF orientation (IFD0 tag 0x0112) from an APP1 payload that starts with "Exif\0\0"; 1 when absent. */
export function exifOrientation(app1: Buffer): number {
  const t = 6; // TIFF header
  if (app1.length < t + 8 || app1.toString('latin1', 0, 6) !== 'Exif\0\0') return 1;
  const order = app1.toString('latin1', t, t + 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const le = order === 'II';
  const u16 = (o: number) => (le ? app1.readUInt16LE(o) : app1.readUInt16BE(o));
  const u32 = (o: number) => (le ? app1.readUInt32LE(o) : app1.readUInt32BE(o));
  if (u16(t + 2) !== 42) return 1;
  const ifd = t + u32(t + 4);
  if (ifd + 2 > app1.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > app1.length) break;
    if (u16(e) !== 0x0112) continue;
    const type = u16(e + 2);
    const v = type === 3 ? u16(e + 8) : type === 4 ? u32(e + 8) : 0; // SHORT (as written) or LONG
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

const JPEG_SEGMENT_NAMES: Record<number, string> = { 0xc4: 'DHT', 0xdb: 'DQT', 0xdd: 'DRI', 0xda: 'SOS', 0xfe: 'COM' };
const segmentName = (m: number) =>
  JPEG_SEGMENT_NAMES[m] ?? (m >= 0xe0 && m <= 0xef ? `APP${m - 0xe0}` : m >= 0xc0 && m <= 0xcf ? `SOF${m - 0xc0}` : `0xFF${m.toString(16).toUpperCase()}`);

/**
 * The file ends with the EOI marker, give or take trailing zero padding (the cheap, common case);
 * anything else (a trailer such as a motion photo's video, or a truncation) needs the full scan.
 */
async function endsWithEoi(src: ByteSource): Promise<boolean> {
  const tailLen = Math.min(src.size, 64 * 1024);
  const tail = await src.read(src.size - tailLen, tailLen);
  let e = tail.length;
  while (e > 0 && tail[e - 1] === 0) e--;
  return e >= 2 && tail[e - 2] === 0xff && tail[e - 1] === 0xd9;
}

/** Position of the next marker after entropy-coded data at `pos` (skipping FF00 stuffing and RSTn), or -1 at the end. */
async function nextMarkerAfterScan(win: ReadWindow, pos: number): Promise<number> {
  for (;;) {
    const chunk = await win.view(pos, 1 << 20);
    if (chunk.length < 2) return -1;
    let i = chunk.indexOf(0xff);
    while (i >= 0 && i + 1 < chunk.length) {
      const next = chunk[i + 1]!;
      if (next === 0xff) i++; // fill byte: the marker may start at the next one
      else if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) i = chunk.indexOf(0xff, i + 2);
      else return pos + i;
    }
    // No marker in this chunk; keep a trailing 0xFF for the next read.
    pos += i >= 0 ? i : chunk.length;
    if (i < 0 && chunk.length < 1 << 20) return -1;
  }
}

export async function probeJpeg(src: ByteSource): Promise<ProbedImage> {
  const win = new ReadWindow(src, 256 * 1024);
  let pos = 2;
  let frame: { width: number; height: number } | undefined;
  let orientation: number | undefined;
  const noEoi = 'the image data stops without the end-of-image marker, EOI';
  let tailHasEoi: boolean | undefined;
  for (let steps = 0; ; steps++) {
    if (steps > 1_000_000) throw damaged('JPEG', 'too many segments');
    let b = await win.view(pos, 2);
    if (b.length < 2) throw truncated('JPEG', frame ? noEoi : 'the file ends before the frame header (SOF)');
    if (b[0] !== 0xff) {
      // Stray bytes before a marker: decoders skip them (libjpeg warns "extraneous bytes").
      const { buf, off } = await win.bytes(pos, 1);
      const next = buf.indexOf(0xff, off);
      pos = next >= 0 ? pos + (next - off) : pos + (buf.length - off);
      continue;
    }
    const marker = b[1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    pos += 2;
    if (marker === 0xd9) {
      if (!frame) throw damaged('JPEG', 'no SOF frame header before the end-of-image marker');
      break; // bytes after EOI (padding, a motion photo's video) are ignored by decoders
    }
    if (marker === 0x01 || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length
    b = await win.view(pos, 2);
    if (b.length < 2) throw truncated('JPEG', frame ? noEoi : 'the file ends before the frame header (SOF)');
    const len = b.readUInt16BE(0);
    if (len < 2) throw damaged('JPEG', `the ${segmentName(marker)} segment at byte ${n(pos - 2)} has length ${len}`);
    const end = pos + len;
    if (end > src.size) {
      throw truncated('JPEG', `the ${segmentName(marker)} segment at byte ${n(pos - 2)} needs ${n(len + 2)} bytes, but the file ends ${n(src.size - pos + 2)} bytes into it`);
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && !frame) {
      const seg = await win.view(pos, 7);
      if (seg.length < 7 || len < 8) throw damaged('JPEG', 'frame header (SOF) too short');
      frame = { height: seg.readUInt16BE(3), width: seg.readUInt16BE(5) };
    } else if (marker === 0xe1 && orientation === undefined && len >= 16) {
      const seg = await src.read(pos + 2, len - 2);
      if (seg.toString('latin1', 0, 6) === 'Exif\0\0') orientation = exifOrientation(seg);
    }
    if (marker !== 0xda) {
      pos = end;
      continue;
    }
    if (!frame) throw damaged('JPEG', 'image data (SOS) before any frame header (SOF)');
    tailHasEoi ??= await endsWithEoi(src);
    if (tailHasEoi) break;
    pos = await nextMarkerAfterScan(win, end);
    if (pos < 0) throw truncated('JPEG', noEoi);
  }
  if (!frame) throw damaged('JPEG', 'no SOF frame header found');
  return { ...frame, hasAlpha: false, orientation: orientation ?? 1 };
}
