// BMP: the header's size and bit depth, and a pixel array that fits in the file.
import { damaged, n, truncated, type ProbedImage } from './source';

const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);
const BMP_BIT_COUNTS = new Set([1, 2, 4, 8, 16, 24, 32]);

export function isBmpHeader(head: Buffer): boolean {
  return head.length >= 26 && BMP_DIB_SIZES.has(head.readUInt32LE(14));
}

export function probeBmp(head: Buffer, size: number): ProbedImage {
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
