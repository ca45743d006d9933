// A GET for result videos whose body is read into a small pool of reused blocks and handed on a block at
// a time, over a connection of its own (node:net / node:tls with `onread`).
// Why not an HTTP client library: every client hands the body on in freshly allocated chunks (undici copies
// each socket read into WebAssembly memory and out again; node:http allocates each socket read and copies
// it again in its parser). On a 200 MB file those allocations, their page faults and their collection cost
// 5–20× the CPU of the copy itself, which on a busy machine made the download 0.4× curl's throughput. Here
// the socket reads straight into the block that will be written to disk (measured in BENCHMARKS.md,
// "Downloads"). HTTP/1.1 only, which is all a presigned storage link needs: status, headers, a body
// delimited by Content-Length, chunked coding or the connection's end.
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Timeouts } from './http';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Receives the body a block at a time; the block is lent until `release` is called (once it is written). */
export type BlockSink = (block: Buffer, release: () => void) => void;

export interface StreamResponse {
  statusCode: number;
  headers: ResponseHeaders;
  body: {
    /**
     * Reads the body once, handing each filled block to `sink`, and resolves after the last one (a partly
     * filled block at the end, or before a failure, is handed on too, so every byte that arrived reaches
     * the sink). Reading pauses while every block is lent. A sink that throws ends the read with its error.
     */
    read(sink: BlockSink): Promise<void>;
    /** Drops the body (an answer that is not used): the connection is closed. */
    dump(): Promise<void>;
  };
}

export interface StreamOptions {
  headers: Record<string, string>;
  timeouts: Timeouts;
  signal?: AbortSignal;
  /** Redirects followed at most (storage hosts may redirect a result link; no credentials travel with it). */
  maxRedirections?: number;
}

/** The size of a block, and how many there are: the most body bytes held in memory is their product. */
export const BLOCK_BYTES = 256 * 1024;
export const BLOCKS = 8;
/** A block with less room than this left is handed on, so the socket is never read in small pieces. */
const MIN_READ_BYTES = 64 * 1024;
/** Longest status line and headers accepted. */
const MAX_HEADER_BYTES = 64 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A transport failure with undici's codes for the same cases, so errors read alike whichever client failed. */
function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason as unknown });
}

/** GETs `url` and resolves at its answer's headers, following redirects; the caller reads or dumps the body. */
export async function getStream(url: string, options: StreamOptions): Promise<StreamResponse> {
  let target = new URL(url);
  for (let redirects = options.maxRedirections ?? 5; ; redirects--) {
    const res = await getOnce(target, options);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string' || redirects <= 0) return res;
    await res.body.dump();
    target = new URL(location, target);
  }
}

/** The request's bytes: a plain HTTP/1.1 GET on a connection closed after the answer. */
function requestHead(url: URL, headers: Record<string, string>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name + value)) throw failure('ERR_INVALID_CHAR', `invalid character in header ${name}`);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`;
}

/** Status and headers from the bytes before the blank line; undefined for an answer that is not HTTP/1.x. */
function parseHead(text: string): { statusCode: number; headers: ResponseHeaders } | undefined {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return undefined;
  const headers: ResponseHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    headers[name] = had === undefined ? value : name === 'set-cookie' ? [...(Array.isArray(had) ? had : [had]), value] : `${String(had)}, ${value}`;
  }
  return { statusCode: Number(status[1]), headers };
}

/**
 * Decodes a chunked body in place: framing is dropped and the data moved down over it. States: reading a
 * chunk's size line, its data, the line end after its data, or the trailers after the last chunk.
 */
class ChunkedDecoder {
  private state: 'size' | 'data' | 'dataEnd' | 'trailers' | 'done' = 'size';
  private line = '';
  private left = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  /** Decodes buf[from, to) and writes the data to buf from `out` on; returns where the data ends. */
  decode(buf: Buffer, from: number, to: number, out: number): number {
    let i = from;
    while (i < to && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.left, to - i);
        if (out !== i) buf.copyWithin(out, i, i + take);
        out += take;
        i += take;
        this.left -= take;
        if (this.left === 0) this.state = 'dataEnd';
        continue;
      }
      const byte = buf[i++]!;
      if (byte !== 0x0a) {
        if (byte !== 0x0d) this.line += String.fromCharCode(byte);
        if (this.line.length > 4096) throw failure('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'a chunk line too long');
        continue;
      }
      const line = this.line;
      this.line = '';
      if (this.state === 'dataEnd') {
        if (line !== '') throw failure('HPE_INVALID_CHUNK_SIZE', 'no line end after a chunk');
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = /^([0-9a-fA-F]+)/.exec(line);
        if (!size) throw failure('HPE_INVALID_CHUNK_SIZE', `invalid chunk size: ${line.slice(0, 20)}`);
        this.left = parseInt(size[1]!, 16);
        this.state = this.left === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        this.state = 'done';
      }
    }
    return out;
  }
}

function getOnce(url: URL, options: StreamOptions): Promise<StreamResponse> {
  const { connectMs, headersMs, bodyMs } = options.timeouts;
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') return Promise.reject(failure('ERR_INVALID_URL_SCHEME', `not an http(s) link: ${url.protocol}`));
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  let head: string;
  try {
    head = requestHead(url, options.headers);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  return new Promise<StreamResponse>((resolveHead, rejectHead) => {
    const free: Buffer[] = Array.from({ length: BLOCKS - 1 }, () => Buffer.allocUnsafe(BLOCK_BYTES));
    let block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
    let filled = 0;
    let phase: 'head' | 'waiting' | 'body' | 'done' = 'head';
    let paused = false;
    let decoder: ChunkedDecoder | undefined;
    let bodyLeft = Infinity; // bytes still to come by Content-Length; Infinity: until the end
    let sink: BlockSink | undefined;
    let settleBody: ((error?: Error) => void) | undefined;
    let ended: Error | null | undefined; // the body's outcome once known before the reader came: null = whole

    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (tls ? 443 : 80);
    const onread: OnReadOpts = { buffer: () => block.subarray(filled), callback: (n: number, into: Uint8Array) => received(n, into) };
    const socket: Socket = tls
      ? // node:tls takes node:net's `onread` (the TLS socket reads its clear text into the block), untyped in @types/node.
        tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], onread } as ConnectionOptions)
      : netConnect({ host, port, onread });

    const connectTimer = setTimeout(() => fail(failure('UND_ERR_CONNECT_TIMEOUT', `no connection within ${connectMs} ms`)), connectMs);
    const headersTimer = setTimeout(() => fail(failure('UND_ERR_HEADERS_TIMEOUT', `no answer within ${headersMs} ms`)), headersMs);
    const onAbort = () => fail(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = () => {
      clearTimeout(connectTimer);
      clearTimeout(headersTimer);
      signal?.removeEventListener('abort', onAbort);
    };

    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      socket.write(head);
    });
    socket.on('error', (error) => fail(error));
    socket.on('end', () => {
      if (phase === 'head') fail(failure('UND_ERR_SOCKET', 'the connection closed before an answer'));
      else if (bodyLeft === Infinity && !decoder) finish(null);
      else fail(failure('UND_ERR_SOCKET', 'the connection closed before the body ended'));
    });
    socket.on('close', () => fail(failure('UND_ERR_SOCKET', 'the connection closed')));

    /** Hands the filled part of the current block to the sink and takes a free one; pauses when none is left. */
    function handOn(last = false): void {
      if (filled === 0 || !sink) return;
      const lent = block.subarray(0, filled);
      const whole = block;
      if (!last) block = free.pop()!; // there is one: reading pauses when the last free block is taken
      filled = 0;
      if (free.length === 0 && phase === 'body') pause();
      let returned = false;
      sink(lent, () => {
        if (returned) return;
        returned = true;
        free.push(whole);
        if (paused && phase === 'body') resume();
      });
    }

    function pause(): void {
      paused = true;
    }
    function resume(): void {
      paused = false;
      socket.resume();
    }

    /** The body's outcome: whole (null) or a failure; the reader (when there is one) hears of it once. */
    function finish(error: Error | null): void {
      if (phase === 'done') return;
      if (phase === 'waiting') {
        ended ??= error;
        return;
      }
      phase = 'done';
      cleanUp();
      try {
        handOn(true);
      } catch (sinkError) {
        error ??= sinkError instanceof Error ? sinkError : new Error(String(sinkError));
      }
      socket.destroy();
      const settle = settleBody;
      settleBody = undefined;
      settle?.(error ?? undefined);
    }

    function fail(error: Error): void {
      if (phase === 'head') {
        phase = 'done';
        cleanUp();
        socket.destroy();
        rejectHead(error);
      } else finish(error);
    }

    /** Takes n new bytes read into `into`, a view of the block; returns false to pause the socket. */
    function received(n: number, into: Uint8Array): boolean {
      try {
        // The socket reads where `filled` was when it last asked; the body's start, decoded in place while it
        // was paused, may have moved `filled` down since: the bytes move down to it.
        const at = into.byteOffset - block.byteOffset;
        if (at !== filled) block.copyWithin(filled, at, at + n);
        const from = filled;
        filled += n;
        if (phase === 'head') return readHead();
        if (phase !== 'body') return false;
        body(from);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
      return !paused;
    }

    /** Body bytes at block[from, filled): decoded in place, counted, handed on when the block is full or the body ends. */
    function body(from: number): void {
      let end = decoder ? decoder.decode(block, from, filled, from) : filled;
      if (end - from > bodyLeft) end = from + bodyLeft; // never more than was announced
      if (bodyLeft !== Infinity) bodyLeft -= end - from;
      filled = end;
      if (bodyLeft === 0 || decoder?.done) finish(null);
      else if (block.length - filled < MIN_READ_BYTES) handOn();
    }

    function readHead(): boolean {
      const at = block.subarray(0, filled).indexOf('\r\n\r\n');
      if (at < 0) {
        if (filled >= MAX_HEADER_BYTES) fail(failure('HPE_HEADER_OVERFLOW', 'the answer\'s headers are too long'));
        return true;
      }
      const parsed = parseHead(block.toString('latin1', 0, at));
      if (!parsed) {
        fail(failure('HPE_INVALID_CONSTANT', 'the answer is not HTTP/1.x'));
        return false;
      }
      // The rest of what arrived is the body's start (or, after an interim 1xx answer, the real answer).
      block.copyWithin(0, at + 4, filled);
      filled -= at + 4;
      if (parsed.statusCode >= 100 && parsed.statusCode < 200) return filled > 0 ? readHead() : true;
      clearTimeout(headersTimer);
      const { statusCode, headers } = parsed;
      const coding = String(headers['transfer-encoding'] ?? '').toLowerCase();
      if (/chunked\s*$/.test(coding)) decoder = new ChunkedDecoder();
      else if (headers['content-length'] !== undefined) bodyLeft = Number(headers['content-length']);
      if (statusCode === 204 || statusCode === 304 || Number.isNaN(bodyLeft)) bodyLeft = 0;
      // The longest silence while the body streams: the socket's idle timeout.
      socket.setTimeout(bodyMs, () => fail(failure('UND_ERR_BODY_TIMEOUT', `the body was silent for ${bodyMs} ms`)));
      // What arrived of the body stays at the block's start until the reader comes (the socket is paused).
      phase = 'waiting';
      resolveHead({
        statusCode,
        headers,
        body: {
          read: (to) =>
            new Promise<void>((resolve, reject) => {
              if (sink) return reject(new Error('the body was read already'));
              sink = to;
              settleBody = (error) => (error ? reject(error) : resolve());
              phase = 'body';
              if (ended !== undefined && filled === 0) return finish(ended);
              try {
                body(0);
              } catch (error) {
                return fail(error instanceof Error ? error : new Error(String(error)));
              }
              if (ended !== undefined) finish(ended);
              else if (!paused) socket.resume();
            }),
          dump: async () => {
            if (phase === 'done') return;
            phase = 'done';
            cleanUp();
            socket.destroy();
          },
        },
      });
      return false; // nothing more is read until the caller reads the body
    }
  });
}
