// Pure-TypeScript image header probing: format by magic bytes (never the file name), dimensions and alpha.
// Only the bytes needed are read (positional reads through a file handle), never the whole file.
import { promises as fsp } from 'node:fs';
import { IMAGE_MIME } from '../limits';

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
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
  /** The image declares transparency (alpha channel, tRNS chunk, alpha mask, ALPH chunk...). */
  hasAlpha: boolean;
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
 * throws MediaProbeError when it is one of those but its header is damaged or truncated.
 */
export async function probeImage(input: string | Buffer): Promise<ImageInfo | null> {
  return withSource(input, (src) => probeImageSource(src));
}

export async function probeImageSource(src: ByteSource): Promise<ImageInfo | null> {
  const head = await src.read(0, 64);
  let r: { format: ImageFormat; width: number; height: number; hasAlpha: boolean } | null = null;
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) {
    r = { format: 'png', ...(await probePng(src)) };
  } else if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    r = { format: 'jpeg', ...(await probeJpeg(src)) };
  } else if (head.length >= 2 && head[0] === 0x42 && head[1] === 0x4d && isBmpHeader(head)) {
    r = { format: 'bmp', ...probeBmp(head) };
  } else if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    r = { format: 'webp', ...(await probeWebp(src, head)) };
  }
  if (!r) return null;
  return { format: r.format, mime: IMAGE_MIME[r.format], width: r.width, height: r.height, bytes: src.size, hasAlpha: r.hasAlpha };
}

function damaged(format: string, why: string): MediaProbeError {
  return new MediaProbeError(`damaged or truncated ${format} header (${why})`);
}

async function probePng(src: ByteSource): Promise<{ width: number; height: number; hasAlpha: boolean }> {
  const ihdr = await src.read(8, 25);
  if (ihdr.length < 25 || ihdr.toString('latin1', 4, 8) !== 'IHDR') throw damaged('PNG', 'no IHDR chunk');
  const width = ihdr.readUInt32BE(8);
  const height = ihdr.readUInt32BE(12);
  const colourType = ihdr[17] ?? 0;
  let hasAlpha = colourType === 4 || colourType === 6;
  if (!hasAlpha) {
    // Walk the chunks up to the first IDAT looking for tRNS.
    let pos = 8;
    for (let n = 0; n < 10000 && pos + 8 <= src.size; n++) {
      const h = await src.read(pos, 8);
      if (h.length < 8) break;
      const len = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      if (type === 'IDAT' || type === 'IEND') break;
      if (type === 'tRNS') {
        if (colourType === 3) {
          // Palette: transparent only if some entry is below 255 (an all-opaque tRNS is harmless).
          const data = await src.read(pos + 8, Math.min(len, 256));
          hasAlpha = data.some((a) => a !== 0xff);
        } else {
          hasAlpha = true; // a transparent colour key (greyscale or RGB)
        }
        break;
      }
      pos += 12 + len;
    }
  }
  return { width, height, hasAlpha };
}

async function probeJpeg(src: ByteSource): Promise<{ width: number; height: number; hasAlpha: boolean }> {
  let pos = 2;
  for (let n = 0; n < 100000; n++) {
    const h = await src.read(pos, 4096);
    if (h.length < 2) break;
    // Find the next 0xFF, then skip fill bytes.
    let i = 0;
    while (i < h.length && h[i] !== 0xff) i++;
    while (i < h.length && h[i] === 0xff) i++;
    if (i >= h.length) {
      pos += Math.max(1, h.length - 1);
      continue;
    }
    const marker = h[i] as number;
    const segStart = pos + i + 1; // first byte after the marker
    if (marker === 0xd9) break; // EOI
    if (marker === 0x00 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos = segStart; // stuffed byte, TEM, RSTn, SOI: no length
      continue;
    }
    const seg = await src.read(segStart, 8);
    if (seg.length < 2) break;
    const len = seg.readUInt16BE(0);
    if (len < 2) throw damaged('JPEG', `segment length ${len}`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (seg.length < 7) break;
      const height = seg.readUInt16BE(3);
      const width = seg.readUInt16BE(5);
      return { width, height, hasAlpha: false };
    }
    pos = segStart + len;
  }
  throw damaged('JPEG', 'no SOF frame header found');
}

const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function isBmpHeader(head: Buffer): boolean {
  return head.length >= 26 && BMP_DIB_SIZES.has(head.readUInt32LE(14));
}

function probeBmp(head: Buffer): { width: number; height: number; hasAlpha: boolean } {
  const dib = head.readUInt32LE(14);
  if (dib === 12) {
    // BITMAPCOREHEADER (OS/2 1.x): unsigned 16-bit dimensions.
    return { width: head.readUInt16LE(18), height: head.readUInt16LE(20), hasAlpha: false };
  }
  if (head.length < 30) throw damaged('BMP', 'header too short');
  const width = Math.abs(head.readInt32LE(18));
  const height = Math.abs(head.readInt32LE(22)); // negative = top-down rows
  let hasAlpha = false;
  if (dib >= 56 && head.length >= 58) {
    const bitCount = head.readUInt16LE(28);
    const compression = head.readUInt32LE(30);
    // BITMAPV3/V4/V5 headers carry an alpha mask at offset 54 (used with BI_BITFIELDS/BI_ALPHABITFIELDS or 32-bit BI_RGB).
    hasAlpha = bitCount === 32 && (compression === 3 || compression === 6 || compression === 0) && head.readUInt32LE(54) !== 0;
  }
  return { width, height, hasAlpha };
}

async function probeWebp(src: ByteSource, head: Buffer): Promise<{ width: number; height: number; hasAlpha: boolean }> {
  const fourcc = head.toString('latin1', 12, 16);
  const d = head.subarray(20);
  if (fourcc === 'VP8 ') {
    if (d.length < 10 || d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a) throw damaged('WEBP', 'bad VP8 start code');
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff, hasAlpha: false };
  }
  if (fourcc === 'VP8L') {
    if (d.length < 5 || d[0] !== 0x2f) throw damaged('WEBP', 'bad VP8L signature');
    const bits = d.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, hasAlpha: ((bits >>> 28) & 1) === 1 };
  }
  if (fourcc === 'VP8X') {
    if (d.length < 10) throw damaged('WEBP', 'VP8X chunk too short');
    const flags = d[0] as number;
    const width = d.readUIntLE(4, 3) + 1;
    const height = d.readUIntLE(7, 3) + 1;
    let hasAlpha = (flags & 0x10) !== 0;
    if (!hasAlpha) {
      // Look for an ALPH chunk or a VP8L bitstream with its alpha hint.
      let pos = 12;
      for (let n = 0; n < 1000 && pos + 8 <= src.size; n++) {
        const h = await src.read(pos, 13);
        if (h.length < 8) break;
        const type = h.toString('latin1', 0, 4);
        const len = h.readUInt32LE(4);
        if (type === 'ALPH') { hasAlpha = true; break; }
        if (type === 'VP8L' && h.length >= 13) { hasAlpha = ((h.readUInt32LE(9) >>> 28) & 1) === 1; break; }
        if (type === 'VP8 ') break;
        pos += 8 + len + (len & 1);
      }
    }
    return { width, height, hasAlpha };
  }
  throw damaged('WEBP', `unknown first chunk "${fourcc}"`);
}
