// Saves a result video: streamed to a temporary file of its own, resumed with Range after a failure,
// checked against the advertised length and as a whole MP4, then renamed into place.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { WanApiError, WanLocalFileError, WanNetworkError, isLocalFileErrorCode } from './errors';
import { isCompleteMp4, makeDirs, shortVideoSeconds } from './files';
import { isTransient, parseRetryAfter, withRetry, type RetryPolicy } from './retry';
import { DEFAULT_TIMEOUTS, toNetworkError, type Timeouts } from './http';
import { getStream, type StreamResponse } from './stream';

export interface DownloadProgress {
  receivedBytes: number;
  totalBytes?: number;
}

export interface DownloadResult {
  /** The length of the file now at `dest`. */
  bytes: number;
  /** The length the server advertised (Content-Length or the Content-Range total); undefined when it gave none. */
  expectedBytes?: number;
  /** true when `dest` already held the complete video (another run saved it first) and was kept as it was. */
  kept: boolean;
}

export interface DownloadOptions {
  retry: RetryPolicy;
  /** The connection's limits (the body's is the longest silence while it streams); DEFAULT_TIMEOUTS by default. */
  timeouts?: Timeouts;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** The video's length as the task reports it: checked when the server gives no byte length. */
  expectedSeconds?: number;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /**
   * A temporary file of the caller's naming, resumed with Range when a run that was killed or shut down
   * left it (kept on shutdown, removed on any other failure). By default each run has one of its own.
   */
  part?: string;
}

/**
 * Appends a download's blocks to its file while the next ones arrive: blocks handed on during a write go out
 * together in one writev, and each is given back to the reader once it is in the file (the reader holds a
 * fixed number of blocks and pauses while all are lent, so memory stays bounded whatever the file's size).
 */
class PartWriter {
  private waiting: { block: Buffer; release: () => void }[] = [];
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly file: FileHandle,
    private readonly path: string,
  ) {}

  /** Queues `block` (lent until `release`); a write that failed before fails the download here. */
  push(block: Buffer, release: () => void): void {
    this.rethrow();
    this.waiting.push({ block, release });
    this.writing ??= this.drain();
  }

  /** Resolves once every queued byte is in the file. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.rethrow();
  }

  /** A failed write fails the download (a full disk, a refused file). */
  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0 && !this.failure) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          await local(this.path, () => writeAll(this.file, batch.map((w) => w.block)));
        } finally {
          // Given back even after a failure, so a reader paused for blocks goes on and hears of it.
          for (const w of batch) w.release();
        }
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      for (const w of this.waiting.splice(0)) w.release();
    } finally {
      this.writing = undefined;
    }
  }
}

/**
 * Reads `body` into `file` (at `path`) through a PartWriter; `onBlock` sees each block before it is queued and
 * may throw to stop the read. On a failure, what arrived before it is in the file before this throws (a download
 * resumes from there with Range; a stream pipeline would drop its buffered writes). The caller closes `file`.
 */
export async function writeBody(body: StreamResponse['body'], file: FileHandle, path: string, onBlock?: (block: Buffer) => void): Promise<void> {
  const writer = new PartWriter(file, path);
  try {
    await body.read((block, release) => {
      try {
        onBlock?.(block);
      } catch (error) {
        release();
        throw error;
      }
      writer.push(block, release);
    });
    await writer.flush();
  } catch (error) {
    await writer.flush().catch(() => undefined);
    throw error;
  }
}

/** writev may write less than asked (a full disk, a signal): the rest is written again until all is in. */
async function writeAll(file: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest);
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        next.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = next;
  }
}

/** The first byte and the total of a 206 answer, from `Content-Range: bytes START-END/TOTAL`. */
function contentRange(header: string | string[] | undefined): { start: number; total?: number } {
  const text = Array.isArray(header) ? (header[0] ?? '') : (header ?? '');
  const unsatisfied = /^bytes \*\/(\d+)/.exec(text);
  if (unsatisfied) return { start: -1, total: Number(unsatisfied[1]) };
  const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(text);
  if (!m) return { start: -1 };
  return { start: Number(m[1]), ...(m[2] !== '*' ? { total: Number(m[2]) } : {}) };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Runs a local file operation; a refusal of the file system becomes a WanLocalFileError (never retried). */
async function local<T>(path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw isLocalFileErrorCode(code) ? new WanLocalFileError(code, path, { cause: error }) : error;
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
 *
 * Several savers may target the same `dest` at once (two runs resuming one task): each writes its own
 * temporary file, and the final rename never replaces a complete video with a shorter file.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<DownloadResult> {
  const part = options.part ?? join(dirname(dest), `.${basename(dest, extname(dest))}.${randomBytes(6).toString('hex')}.part`);
  await local(dirname(dest), () => makeDirs(dirname(dest)));
  let expected: number | undefined;

  /** One try: asks for the bytes not yet saved and appends them to the temporary file. */
  const attempt = async () => {
    const have = await sizeOf(part);
    let res: Awaited<ReturnType<typeof getStream>>;
    try {
      res = await getStream(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, timeouts: options.timeouts ?? DEFAULT_TIMEOUTS, signal: options.signal });
    } catch (error) {
      throw toNetworkError(error, 'Download');
    }
    const { statusCode } = res;
    if (statusCode === 416 && have > 0) {
      // A part left whole by a run killed before its rename: done if it is all of it, else start over.
      await res.body.dump();
      const { total } = contentRange(res.headers['content-range']);
      if (total === have) {
        expected = total;
        return;
      }
      await rm(part, { force: true });
      throw new WanNetworkError(`Download could not resume at byte ${have}`, true, 'BAD_RANGE');
    }
    if (statusCode !== 200 && statusCode !== 206) {
      await res.body.dump();
      throw downloadStatusError(statusCode, res.headers['retry-after']);
    }
    const resumed = statusCode === 206;
    const range = resumed ? contentRange(res.headers['content-range']) : { start: 0 };
    if (resumed && range.start !== have) {
      // Not the part we asked for: start over rather than splice mismatched bytes.
      await res.body.dump();
      await rm(part, { force: true });
      throw new WanNetworkError(`Download resumed at byte ${range.start}, not ${have}`, true, 'BAD_RANGE');
    }
    const length = Number(res.headers['content-length']);
    const total = range.total ?? (Number.isFinite(length) ? range.start + length : undefined);
    expected = total;
    let received = range.start;
    let file;
    try {
      file = await local(part, () => open(part, resumed ? 'a' : 'w'));
    } catch (error) {
      await res.body.dump();
      throw error;
    }
    try {
      await writeBody(res.body, file, part, (block) => {
        received += block.length;
        options.onProgress?.({ receivedBytes: received, totalBytes: expected });
      });
    } catch (error) {
      throw error instanceof WanLocalFileError ? error : toNetworkError(error, 'Download');
    } finally {
      await local(part, () => file.close());
    }
    if (total !== undefined && received !== total) {
      throw new WanNetworkError(`Download ended early: ${received} of ${total} bytes`, true, 'TRUNCATED');
    }
  };

  try {
    await withRetry(attempt, { policy: options.retry, shouldRetry: isTransient, onRetry: options.onRetry, signal: options.signal });
    const bytes = await sizeOf(part);
    if (expected !== undefined && bytes !== expected) {
      throw new WanNetworkError(`Download saved ${bytes} bytes, but the server announced ${expected}`, true, 'TRUNCATED', { retryable: false });
    }
    if (!(await isCompleteMp4(part))) {
      throw new WanNetworkError('Download finished but the file is not a complete MP4 video', true, 'NOT_MP4', { retryable: false });
    }
    const short = expected === undefined && options.expectedSeconds !== undefined ? await shortVideoSeconds(part, options.expectedSeconds) : undefined;
    if (short !== undefined) {
      const message = `Download ended early: the file holds ${short.toFixed(1)} s of the ${options.expectedSeconds} s video the task reports`;
      throw new WanNetworkError(message, true, 'TRUNCATED', { retryable: false });
    }
    // Someone else may have saved it meanwhile: keep a complete copy that is at least as long.
    const existing = await stat(dest).catch(() => undefined);
    if (existing?.isFile() && existing.size >= bytes && (await isCompleteMp4(dest))) {
      await rm(part, { force: true });
      return { bytes: existing.size, expectedBytes: expected, kept: true };
    }
    await local(dest, () => rename(part, dest));
    return { bytes, expectedBytes: expected, kept: false };
  } catch (error) {
    // Shut down mid-way: the next run resumes from what arrived (only a part of the caller's naming is found again).
    if (!(options.part && options.signal?.aborted)) await rm(part, { force: true });
    throw error;
  }
}
