// ISO BMFF (MP4/QuickTime) boxes inside a buffer: walk, find by type or path, and the time headers.
export interface Box {
  type: string;
  /** Payload (after the header). */
  data: Buffer;
}

export function* boxes(buf: Buffer, start = 0): Generator<Box> {
  let p = start;
  while (p + 8 <= buf.length) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let hl = 8;
    if (size === 1) {
      if (p + 16 > buf.length) return;
      size = Number(buf.readBigUInt64BE(p + 8));
      hl = 16;
    } else if (size === 0) {
      size = buf.length - p;
    }
    if (size < hl || p + size > buf.length) return;
    yield { type, data: buf.subarray(p + hl, p + size) };
    p += size;
  }
}

export function child(buf: Buffer, type: string): Buffer | undefined {
  for (const b of boxes(buf)) if (b.type === type) return b.data;
  return undefined;
}

export function path(buf: Buffer | undefined, ...types: string[]): Buffer | undefined {
  let cur = buf;
  for (const t of types) {
    if (!cur) return undefined;
    cur = child(cur, t);
  }
  return cur;
}

/** timescale and duration of an mvhd/mdhd payload (versions 0 and 1). */
export function timeHeader(d: Buffer): { timescale: number; duration: number } | undefined {
  const v = d[0];
  if (v === 1) {
    if (d.length < 32) return undefined;
    const dur = d.readBigUInt64BE(24);
    return { timescale: d.readUInt32BE(20), duration: dur === 0xffffffffffffffffn ? 0 : Number(dur) };
  }
  if (d.length < 20) return undefined;
  const dur = d.readUInt32BE(16);
  return { timescale: d.readUInt32BE(12), duration: dur === 0xffffffff ? 0 : dur };
}

/** u32 at `o`, or undefined past the end of `b`. */
export const u32 = (b: Buffer, o: number): number | undefined => (o + 4 <= b.length ? b.readUInt32BE(o) : undefined);
