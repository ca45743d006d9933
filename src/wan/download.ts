// Saves a result video: streamed to a .part file, resumed with Range after a failure, checked, then renamed.
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { WanApiError, WanNetworkError } from './errors';
import { isTransient, parseRetryAfter, withRetry, type RetryPolicy } from './retry';
import { toNetworkError } from './http';

export interface DownloadProgress {
  receivedBytes: number;
  totalBytes?: number;
}

export interface DownloadOptions {
  dispatcher: Dispatcher;
  retry: RetryPolicy;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** An MP4 starts with a box whose type is `ftyp` (or, rarely, another top-level box). */
async function looksLikeMp4(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    return ['ftyp', 'moov', 'mdat', 'free', 'wide'].includes(head.toString('latin1', 4, 8));
  } finally {
    await fh.close();
  }
}

/**
 * Downloads `url` to `dest`. The video URL is a presigned link: it is fetched without our Authorization
 * header, so the API key never goes to the storage host.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<{ bytes: number }> {
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  await rm(part, { force: true });
  let total: number | undefined;

  await withRetry(
    async () => {
      const have = await sizeOf(part);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: 'GET',
          headers: have > 0 ? { range: `bytes=${have}-` } : {},
          dispatcher: options.dispatcher,
          signal: options.signal,
        });
      } catch (error) {
        throw toNetworkError(error, 'Download');
      }
      const { statusCode } = res;
      if (statusCode !== 200 && statusCode !== 206) {
        await res.body.dump();
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        const code = statusCode === 403 || statusCode === 404 ? 'VideoUrlExpired' : `HTTP${statusCode}`;
        const message =
          code === 'VideoUrlExpired'
            ? 'the video link has expired or is gone (result links last 24 hours)'
            : `the download answered HTTP ${statusCode}`;
        throw new WanApiError(statusCode, code, message, undefined, retryAfter);
      }
      const resumed = statusCode === 206;
      const length = Number(res.headers['content-length']);
      const start = resumed ? have : 0;
      if (Number.isFinite(length)) total = start + length;
      let received = start;
      // Each chunk is written before the next is read, so what arrived before a failure is kept for
      // the Range resume (a stream pipeline would drop its buffered writes when it is torn down).
      const file = await open(part, resumed ? 'a' : 'w');
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          await file.write(chunk);
          received += chunk.length;
          options.onProgress?.({ receivedBytes: received, totalBytes: total });
        }
      } catch (error) {
        throw toNetworkError(error, 'Download');
      } finally {
        await file.close();
      }
      if (total !== undefined && received !== total) {
        throw new WanNetworkError(`Download ended early: ${received} of ${total} bytes`, true, 'TRUNCATED');
      }
    },
    { policy: options.retry, shouldRetry: isTransient, onRetry: options.onRetry, signal: options.signal },
  );

  const bytes = await sizeOf(part);
  if (bytes === 0 || !(await looksLikeMp4(part))) {
    await rm(part, { force: true });
    throw new WanNetworkError('Download finished but the file is not an MP4 video', true, 'NOT_MP4');
  }
  await rename(part, dest);
  return { bytes };
}
