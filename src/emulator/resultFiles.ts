// The result links: the rendered MP4s served like OSS serves them (Range, HEAD, expiry after 24 h of the
// emulator's clock), with the download faults (slow, truncated) applied on the way.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../wan/retry';
import type { EmulatorClock } from './clock';
import type { HttpFault } from './faults';
import { parseRange, sendReply, xmlReply } from './http';
import type { TaskStore } from './tasks';
import { OssError } from './upload';

/** Where the results are and the clock their links expire on. */
export interface ResultFiles {
  files: TaskStore['files'];
  clock: EmulatorClock;
}

/** Sends the result file `name` (honouring Range and HEAD, and a slow or truncating fault); returns the status sent. */
export async function serveDownload(
  results: ResultFiles,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  requestId: string,
  fault: HttpFault | undefined,
): Promise<number> {
  const { files, clock } = results;
  const file = files.get(name);
  const head = req.method === 'HEAD';
  if (!file) {
    sendReply(res, xmlReply(404, new OssError(404, 'NoSuchKey', 'The specified key does not exist.').xml(requestId)), { head });
    return 404;
  }
  if (clock.now() > file.expiresAt) {
    sendReply(res, xmlReply(403, new OssError(403, 'AccessDenied', 'Request has expired.').xml(requestId)), { head });
    return 403;
  }
  const size = (await stat(file.path)).size;
  const range = parseRange(req.headers.range, size);
  res.setHeader('content-type', 'video/mp4');
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('etag', `"${name.slice(0, 36)}-${size}"`);
  res.setHeader('x-oss-request-id', requestId);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('content-range', `bytes */${size}`);
    res.end();
    return 416;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const length = end - start + 1;
  res.statusCode = range ? 206 : 200;
  if (range) res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
  res.setHeader('content-length', String(length));
  if (head) {
    res.end();
    return res.statusCode;
  }
  const stopAfter = fault?.kind === 'truncate' ? Math.min(length - 1, fault.afterBytes ?? Math.floor(length / 2)) : undefined;
  const bps = fault?.kind === 'slow' ? (fault.bytesPerSecond ?? 64 * 1024) : undefined;
  const status = res.statusCode;
  let sent = 0;
  const stream = createReadStream(file.path, { start, end, highWaterMark: bps ? Math.max(1, Math.min(64 * 1024, Math.ceil(bps / 10))) : 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      let piece = chunk;
      if (stopAfter !== undefined && sent + piece.length > stopAfter) piece = piece.subarray(0, stopAfter - sent);
      if (piece.length) {
        const ok = res.write(piece);
        sent += piece.length;
        if (!ok) {
          await new Promise<void>((r) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              r();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
      }
      if (stopAfter !== undefined && sent >= stopAfter) {
        await new Promise<void>((r) => res.write('', () => r()));
        // A real connection dies some time after its last byte; closing at once would race the
        // client's read of those bytes and make the truncation point unpredictable.
        await sleep(150);
        res.destroy();
        break;
      }
      if (bps) await sleep((piece.length / bps) * 1000);
    }
  } finally {
    stream.destroy();
  }
  if (!res.destroyed) res.end();
  return status;
}
