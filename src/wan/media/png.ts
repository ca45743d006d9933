// PNG: the chunk chain walked to IEND, critical chunks' CRCs checked, transparency from the colour type or tRNS.
import * as zlib from 'node:zlib';
import { IMAGE } from '../limits';
import { damaged, n, truncated, type ByteSource, type ProbedImage } from './source';
import { ReadWindow } from './window';

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

export async function probePng(src: ByteSource): Promise<ProbedImage> {
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
