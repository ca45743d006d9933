// WEBP: the first chunk's size and flags, then every RIFF chunk checked to fit, alpha and animation noted.
import { damaged, n, truncated, type ByteSource, type ProbedImage } from './source';

export async function probeWebp(src: ByteSource, head: Buffer): Promise<ProbedImage> {
  const riffEnd = 8 + head.readUInt32LE(4);
  if (riffEnd > src.size) {
    throw truncated('WEBP', `the RIFF header declares ${n(riffEnd)} bytes, but the file has ${n(src.size)}`);
  }
  const fourcc = head.toString('latin1', 12, 16);
  const d = head.subarray(20);
  let r: ProbedImage;
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