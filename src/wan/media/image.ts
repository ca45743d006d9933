// Pure-TypeScript image probing: format by magic bytes (never the file name), dimensions, alpha, and a
// structure walk complete enough to catch a truncated file (PNG chunks to IEND, JPEG segments to EOI,
// BMP pixel array, WEBP RIFF chunks). Reads go through positional reads, never a whole large file.
import { promises as fsp } from 'node:fs';
import * as zlib from 'node:zlib';
import { IMAGE, IMAGE_MIME } from '../limits';
import { ReadWindow } from './window';

/** A file (or buffer) exists but its header is truncated or inconsistent. */
export class MediaProbeError extends Error {
  override readonly name = 'MediaProbeError';
}

/** Random-access byte source: a buffer or an open file handle. Reads past the end return short buffers. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read: async (position, length) =>
      buf.subarray(Math.min(position, buf.length), Math.min(position + length, buf.length)),
    close: async () => {},
  };
}

export async function openFileSource(path: string): Promise<ByteSource> {
  const fh = await fsp.open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`not a regular file: ${path}`), { code: 'EISDIR' });
    return {
      size: st.size,
      read: async (position, length) => {
        const len = Math.max(0, Math.min(length, st.size - position));
        const buf = Buffer.alloc(len);
        let done = 0;
        while (done < len) {
          const { bytesRead } = await fh.read(buf, done, len - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === len ? buf : buf.subarray(0, done);
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Runs `fn` on a source for `input` and always closes it. */
export async function withSource<T>(input: string | Buffer, fn: (src: ByteSource) => Promise<T>): Promise<T> {
  const src = typeof input === 'string' ? await openFileSource(input) : bufferSource(input);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

export type ImageFormat = keyof typeof IMAGE_MIME;

export interface ImageInfo {
  format: ImageFormat;
  mime: (typeof IMAGE_MIME)[ImageFormat];
  /** Displayed size: a JPEG's EXIF orientation 5–8 (a quarter turn) swaps the stored width and height. */
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
  /** The image declares transparency (alpha channel, tRNS chunk, alpha mask, ALPH chunk...). */
  hasAlpha: boolean;
  /** An animated WEBP (the API takes still images). */
  animated: boolean;
  /** EXIF orientation 1–8 of a JPEG (1, upright, when absent and for other formats). */
  orientation: number;
}

/**
 * Names a format we do not accept, from its magic bytes, for error messages
 * (e.g. "a GIF image"). Returns undefined when nothing is recognised.
 */
export function describeUnsupportedImage(head: Buffer): string | undefined {
  const ascii = (s: number, e: number) => head.subarray(s, e).toString('latin1');
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'a GIF image';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'a TIFF image';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (/^(heic|heix|heim|heis|hevc|hevx|mif1|msf1)$/.test(brand)) return 'a HEIC/HEIF image';
    if (brand === 'avif' || brand === 'avis') return 'an AVIF image';
    return 'an MP4/QuickTime file';
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x0000000c && ascii(4, 8) === 'jP  ') return 'a JPEG 2000 image';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x00000100) return 'an ICO icon';
  if (ascii(0, 4) === 'RIFF') return `a RIFF/${ascii(8, 12).trim() || '?'} file`;
  if (ascii(0, 4) === '%PDF') return 'a PDF document';
  if (ascii(0, 4) === '8BPS') return 'a Photoshop document';
  const text = head.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'an SVG (vector) image';
  if (head.length > 0 && !head.subarray(0, 512).some((b) => b < 9 || (b > 13 && b < 32))) return 'a text file';
  return undefined;
}

/**
 * Probes an image by its magic bytes. Returns null when the data is not JPEG, PNG, BMP or WEBP;
 * throws MediaProbeError when it is one of those but is damaged or truncated.
 */
export async function probeImage(input: string | Buffer): Promise<ImageInfo | null> {
  return withSource(input, (src) => probeImageSource(src));
}

interface Probed {
  width: number;
  height: number;
  hasAlpha: boolean;
  animated?: boolean;
  orientation?: number;
}

export async function probeImageSource(src: ByteSource): Promise<ImageInfo | null> {
  const head = await src.read(0, 64);
  let format: ImageFormat;
  let r: Probed;
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) {
    format = 'png';
    r = await probePng(src);
  } else if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    format = 'jpeg';
    r = await probeJpeg(src);
  } else if (head.length >= 2 && head[0] === 0x42 && head[1] === 0x4d && isBmpHeader(head)) {
    format = 'bmp';
    r = probeBmp(head, src.size);
  } else if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
    format = 'webp';
    r = await probeWebp(src, head);
  } else {
    return null;
  }
  const orientation = r.orientation ?? 1;
  const turned = orientation >= 5; // 5–8 include a quarter turn
  return {
    format,
    mime: IMAGE_MIME[format],
    width: turned ? r.height : r.width,
    height: turned ? r.width : r.height,
    bytes: src.size,
    hasAlpha: r.hasAlpha,
    animated: r.animated ?? false,
    orientation,
  };
}

const n = (v: number) => v.toLocaleString('en-US');

function damaged(format: string, why: string): MediaProbeError {
  return new MediaProbeError(`damaged ${format} file (${why})`);
}

function truncated(format: string, why: string): MediaProbeError {
  return new MediaProbeError(`truncated ${format} file (${why})`);
}

// ---------------------------------------------------------------- PNG

// zlib.crc32 is in Node 20.15+; without it the chunk chain is still walked, only CRCs are skipped.
const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

const PNG_WINDOW = 1 << 20;

async function chunkCrc(src: ByteSource, pos: number, len: number): Promise<number> {
  let crc = 0;
  // Type and data, in pieces so a large IDAT never sits in memory twice.
  for (let p = pos + 4, end = pos + 8 + len; p < end; ) {
    const piece = await src.read(p, Math.min(end - p, 1 << 20));
    if (!piece.length) break;
    crc = crc32!(piece, crc);
    p += piece.length;
  }
  return crc;
}

async function probePng(src: ByteSource): Promise<Probed> {
  const ihdr = await src.read(8, 25);
  if (ihdr.length < 25 || ihdr.toString('latin1', 4, 8) !== 'IHDR') throw damaged('PNG', 'no IHDR chunk');
  const width = ihdr.readUInt32BE(8);
  const height = ihdr.readUInt32BE(12);
  const colourType = ihdr[17] ?? 0;
  let hasAlpha = colourType === 4 || colourType === 6;
  // CRCs of critical chunks: libpng refuses an image whose IHDR/PLTE/IDAT/IEND fails its CRC (a bad
  // ancillary chunk is only dropped). Over-limit files are refused for their size anyway: skip reading them.
  const checkCrc = crc32 !== undefined && src.size <= IMAGE.maxBytes;
  const win = new ReadWindow(src, PNG_WINDOW);
  let pos = 8;
  let sawIdat = false;
  let chunks = 0;
  for (;;) {
    if (pos + 8 > src.size) {
      throw truncated(
        'PNG',
        pos === src.size
          ? `no IEND chunk: the file ends after ${n(chunks)} whole chunks without the IEND chunk that closes every PNG`
          : `the file ends inside a chunk header at byte ${n(pos)}`,
      );
    }
    const h = await win.view(pos, 8);
    const len = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (!/^[A-Za-z]{4}$/.test(type) || len > 0x7fffffff) throw damaged('PNG', `the bytes at ${n(pos)} are not a chunk header`);
    const end = pos + 12 + len;
    if (end > src.size) {
      throw truncated('PNG', `the ${type} chunk at byte ${n(pos)} needs ${n(len + 12)} bytes, but the file ends ${n(src.size - pos)} bytes into it`);
    }
    const critical = (type.charCodeAt(0) & 0x20) === 0;
    if (checkCrc && critical) {
      let crc: number;
      let stored: number;
      if (len + 12 <= PNG_WINDOW) {
        const c = await win.view(pos, len + 12);
        crc = crc32(c.subarray(4, 8 + len));
        stored = c.readUInt32BE(8 + len);
      } else {
        crc = await chunkCrc(src, pos, len);
        stored = (await src.read(pos + 8 + len, 4)).readUInt32BE(0);
      }
      if (crc !== stored) throw damaged('PNG', `the ${type} chunk at byte ${n(pos)} fails its CRC check`);
    }
    if (type === 'IDAT') sawIdat = true;
    else if (type === 'tRNS' && !sawIdat && !hasAlpha) {
      if (colourType === 3) {
        // Palette: transparent only if some entry is below 255 (an all-opaque tRNS is harmless).
        const data = await src.read(pos + 8, Math.min(len, 256));
        hasAlpha = data.some((a) => a !== 0xff);
      } else {
        hasAlpha = true; // a transparent colour key (greyscale or RGB)
      }
    } else if (type === 'IEND') {
      if (!sawIdat) throw damaged('PNG', 'no IDAT chunk: it holds no image data');
      break; // bytes after IEND are ignored by decoders
    }
    pos = end;
    chunks++;
  }
  return { width, height, hasAlpha };
}

// ---------------------------------------------------------------- JPEG

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

async function probeJpeg(src: ByteSource): Promise<Probed> {
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

// ---------------------------------------------------------------- BMP

const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);
const BMP_BIT_COUNTS = new Set([1, 2, 4, 8, 16, 24, 32]);

function isBmpHeader(head: Buffer): boolean {
  return head.length >= 26 && BMP_DIB_SIZES.has(head.readUInt32LE(14));
}

function probeBmp(head: Buffer, size: number): Probed {
  const dib = head.readUInt32LE(14);
  const offBits = head.readUInt32LE(10);
  let width: number;
  let height: number;
  let bitCount: number;
  let compression = 0;
  let sizeImage = 0;
  let hasAlpha = false;
  if (dib === 12) {
    // BITMAPCOREHEADER (OS/2 1.x): unsigned 16-bit dimensions.
    width = head.readUInt16LE(18);
    height = head.readUInt16LE(20);
    bitCount = head.readUInt16LE(24);
  } else {
    if (head.length < 38) throw damaged('BMP', 'header too short');
    width = Math.abs(head.readInt32LE(18));
    height = Math.abs(head.readInt32LE(22)); // negative = top-down rows
    bitCount = head.readUInt16LE(28);
    if (dib >= 40) {
      compression = head.readUInt32LE(30);
      sizeImage = head.readUInt32LE(34);
    }
    if (dib >= 56 && head.length >= 58) {
      // BITMAPV3/V4/V5 headers carry an alpha mask at offset 54 (used with BI_BITFIELDS/BI_ALPHABITFIELDS or 32-bit BI_RGB).
      hasAlpha = bitCount === 32 && (compression === 3 || compression === 6 || compression === 0) && head.readUInt32LE(54) !== 0;
    }
  }
  if (!BMP_BIT_COUNTS.has(bitCount)) throw damaged('BMP', `${bitCount} bits per pixel`);
  // Uncompressed rows are padded to 4 bytes; compressed data (RLE) has its size in biSizeImage.
  const uncompressed = compression === 0 || compression === 3 || compression === 6;
  const pixelBytes = uncompressed ? Math.floor((bitCount * width + 31) / 32) * 4 * height : sizeImage;
  if (offBits + pixelBytes > size) {
    throw truncated('BMP', `its header promises ${n(pixelBytes)} bytes of pixels from byte ${n(offBits)}, but the file ends at byte ${n(size)}`);
  }
  return { width, height, hasAlpha };
}

// ---------------------------------------------------------------- WEBP

async function probeWebp(src: ByteSource, head: Buffer): Promise<Probed> {
  const riffEnd = 8 + head.readUInt32LE(4);
  if (riffEnd > src.size) {
    throw truncated('WEBP', `the RIFF header declares ${n(riffEnd)} bytes, but the file has ${n(src.size)}`);
  }
  const fourcc = head.toString('latin1', 12, 16);
  const d = head.subarray(20);
  let r: Probed;
  if (fourcc === 'VP8 ') {
    if (d.length < 10 || d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a) throw damaged('WEBP', 'bad VP8 start code');
    r = { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff, hasAlpha: false };
  } else if (fourcc === 'VP8L') {
    if (d.length < 5 || d[0] !== 0x2f) throw damaged('WEBP', 'bad VP8L signature');
    const bits = d.readUInt32LE(1);
    r = { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, hasAlpha: ((bits >>> 28) & 1) === 1 };
  } else if (fourcc === 'VP8X') {
    if (d.length < 10) throw damaged('WEBP', 'VP8X chunk too short');
    const flags = d[0] as number;
    r = { width: d.readUIntLE(4, 3) + 1, height: d.readUIntLE(7, 3) + 1, hasAlpha: (flags & 0x10) !== 0, animated: (flags & 0x02) !== 0 };
  } else {
    throw damaged('WEBP', `unknown first chunk "${fourcc}"`);
  }
  // Every chunk must fit inside the RIFF data; look for alpha and animation on the way.
  let pos = 12;
  let image = false;
  for (let count = 0; pos < riffEnd && count < 100_000; count++) {
    const h = await src.read(pos, 13);
    if (h.length < 8 || pos + 8 > riffEnd) throw truncated('WEBP', `the file ends inside a chunk header at byte ${n(pos)}`);
    const type = h.toString('latin1', 0, 4);
    const len = h.readUInt32LE(4);
    if (pos + 8 + len > riffEnd) {
      throw truncated('WEBP', `the ${type.trim()} chunk at byte ${n(pos)} needs ${n(len + 8)} bytes, but the data ends ${n(riffEnd - pos)} bytes into it`);
    }
    if (type === 'ANIM' || type === 'ANMF') r.animated = true;
    else if (type === 'ALPH') r.hasAlpha = true;
    else if (type === 'VP8L' && fourcc === 'VP8X' && h.length >= 13 && ((h.readUInt32LE(9) >>> 28) & 1) === 1) r.hasAlpha = true;
    if (type === 'VP8 ' || type === 'VP8L' || type === 'ANMF') image = true;
    pos += 8 + len + (len & 1);
  }
  if (!image) throw truncated('WEBP', 'no image data (VP8/VP8L chunk)');
  return r;
}
