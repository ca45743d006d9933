// Where a probe reads from (a buffer or an open file, by positional reads) and what it throws when a
// file of a known format is damaged or truncated.
import { promises as fsp } from 'node:fs';

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

/** What a format's probe finds; the caller adds the format, the size and the orientation's effect. */
export interface ProbedImage {
  width: number;
  height: number;
  hasAlpha: boolean;
  animated?: boolean;
  orientation?: number;
}

/** Thousands separated, for byte positions and counts in error messages. */
export const n = (v: number) => v.toLocaleString('en-US');

export function damaged(format: string, why: string): MediaProbeError {
  return new MediaProbeError(`damaged ${format} file (${why})`);
}

export function truncated(format: string, why: string): MediaProbeError {
  return new MediaProbeError(`truncated ${format} file (${why})`);
}
