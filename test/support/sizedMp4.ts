// A structurally whole MP4 of any size, written without ffmpeg (downloads of hundreds of megabytes in tests and the bench).
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes a structurally whole MP4 of exactly `bytes` bytes without ffmpeg: ftyp, a movie header (2 s),
 * then one mdat of patterned bytes. For downloads of any size (the MP4 check walks the top-level boxes).
 */
export function writeSizedMp4(path: string, bytes: number): void {
  const box = (type: string, payload: Buffer) => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length, 0);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, payload]);
  };
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(2000, 16); // duration
  const head = Buffer.concat([box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1')), box('moov', box('mvhd', mvhd))]);
  const mdat = Buffer.alloc(8);
  mdat.writeUInt32BE(bytes - head.length, 0);
  mdat.write('mdat', 4, 'latin1');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.concat([head, mdat]));
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
    for (let left = bytes - head.length - 8; left > 0; left -= chunk.length) writeSync(fd, left >= chunk.length ? chunk : chunk.subarray(0, left));
  } finally {
    closeSync(fd);
  }
}
