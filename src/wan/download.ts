// Saves a result video: streamed to a .part file, resumed with Range after a failure, checked, then renamed.
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { interceptors, request, type Dispatcher } from 'undici';
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

/** The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`. */
function rangeStart(header: string | string[] | undefined): number {
  const m = /^bytes (\d+)-/.exec(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
  return m ? Number(m[1]) : -1;
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

/** Expired, gone or failing result links, as errors the retry policy can judge. */
function downloadStatusError(statusCode: number, retryAfter: string | string[] | undefined): WanApiError {
  const expired = statusCode === 403 || statusCode === 404;
  return new WanApiError(
    statusCode,
    expired ? 'VideoUrlExpired' : `HTTP${statusCode}`,
    expired ? 'the video link has expired or is gone (result links last 24 hours)' : `the download answered HTTP ${statusCode}`,
    undefined,
    parseRetryAfter(retryAfter),
  );
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
  // Storage hosts may redirect a result link; no credentials travel with it either way.
  const dispatcher = options.dispatcher.compose(interceptors.redirect({ maxRedirections: 5 }));

  /** One try: asks for the bytes not yet saved and appends them to the .part file. */
  const attempt = async () => {
    const have = await sizeOf(part);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
        dispatcher,
        signal: options.signal,
      });
    } catch (error) {
      throw toNetworkError(error, 'Download');
    }
    const { statusCode } = res;
    if (statusCode !== 200 && statusCode !== 206) {
      await res.body.dump();
      throw downloadStatusError(statusCode, res.headers['retry-after']);
    }
    const resumed = statusCode === 206;
    const start = resumed ? rangeStart(res.headers['content-range']) : 0;
    if (resumed && start !== have) {
      // Not the part we asked for: start over rather than splice mismatched bytes.
      await res.body.dump();
      await rm(part, { force: true });
      throw new WanNetworkError(`Download resumed at byte ${start}, not ${have}`, true, 'BAD_RANGE');
    }
    const length = Number(res.headers['content-length']);
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
  };

  try {
    await withRetry(attempt, { policy: options.retry, shouldRetry: isTransient, onRetry: options.onRetry, signal: options.signal });
    if ((await sizeOf(part)) === 0 || !(await looksLikeMp4(part))) {
      throw new WanNetworkError('Download finished but the file is not an MP4 video', true, 'NOT_MP4', { retryable: false });
    }
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
  const bytes = await sizeOf(part);
  await rename(part, dest);
  return { bytes };
}
