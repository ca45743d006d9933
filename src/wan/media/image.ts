// Pure-TypeScript image probing: format by magic bytes (never the file name), dimensions, alpha, and a
// structure walk complete enough to catch a truncated file (PNG chunks to IEND, JPEG segments to EOI,
// BMP pixel array, WEBP RIFF chunks; one module each). Reads go through positional reads, never a whole
// large file.
import { IMAGE_MIME } from '../limits';
import { isBmpHeader, probeBmp } from './bmp';
import { probeJpeg } from './jpeg';
import { probePng } from './png';
import { withSource, type ByteSource, type ProbedImage } from './source';
import { probeWebp } from './webp';

// Their home is source.ts; the image probe's importers find them here too.
export { MediaProbeError, withSource, type ByteSource } from './source';

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
export async function probeImageSource(src: ByteSource): Promise<ImageInfo | null> {
  const head = await src.read(0, 64);
  let format: ImageFormat;
  let r: ProbedImage;
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
