// A GET whose body is streamed by Node's own HTTP client (node:http / node:https), for result videos.
// Why not undici here, as everywhere else: undici parses responses in WebAssembly and copies every
// socket read into its memory, which made a 200 MB download cost about 5× curl's CPU and let about
// 60 MB of read buffers pile up before a collection; Node's native parser hands the socket's own
// chunks on (measured in BENCHMARKS.md, "Downloads").
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Timeouts } from './http';

export interface StreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: {
    /** The body, read once. */
    stream: IncomingMessage;
    /** Reads and drops the body (an answer that is not used), so its connection is freed. */
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

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A transport failure with undici's codes for the same cases, so errors read alike whichever client failed. */
function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** GETs `url` and resolves at its answer's headers, following redirects; the caller reads or dumps the body. */
export async function getStream(url: string, options: StreamOptions): Promise<StreamResponse> {
  let target = new URL(url);
  for (let redirects = options.maxRedirections ?? 5; ; redirects--) {
    const res = await getOnce(target, options);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location || redirects <= 0) return answer(res);
    res.resume();
    target = new URL(location, target);
  }
}

function answer(res: IncomingMessage): StreamResponse {
  return {
    statusCode: res.statusCode ?? 0,
    headers: res.headers,
    body: {
      stream: res,
      dump: () =>
        new Promise<void>((resolve) => {
          if (res.complete || res.destroyed) return resolve();
          res.once('end', resolve).once('close', resolve).once('error', () => resolve());
          res.resume();
        }),
    },
  };
}

function getOnce(url: URL, options: StreamOptions): Promise<IncomingMessage> {
  const { connectMs, headersMs, bodyMs } = options.timeouts;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (!send) return reject(timeoutError('ERR_INVALID_URL_SCHEME', `not an http(s) link: ${url.protocol}`));
    // A connection of its own (no pooled socket outlives the download).
    const req = send(url, { method: 'GET', headers: options.headers, signal: options.signal, agent: false });
    let response: IncomingMessage | undefined;
    // Once the answer has come, its body stream carries the failure to the reader.
    const fail = (code: string, message: string) => (response ?? req).destroy(timeoutError(code, message));
    const connectTimer = setTimeout(() => fail('UND_ERR_CONNECT_TIMEOUT', `no connection within ${connectMs} ms`), connectMs);
    const headersTimer = setTimeout(() => fail('UND_ERR_HEADERS_TIMEOUT', `no answer within ${headersMs} ms`), headersMs);
    const settle = () => (clearTimeout(connectTimer), clearTimeout(headersTimer));
    req.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    // Kept for the request's life: the socket can fail after the answer came too (the body's reader hears of it).
    req.on('error', (error) => (settle(), reject(error)));
    req.once('response', (res) => {
      settle();
      response = res;
      // The longest silence while the body streams: the socket's idle timeout.
      req.setTimeout(bodyMs, () => fail('UND_ERR_BODY_TIMEOUT', `the body was silent for ${bodyMs} ms`));
      resolve(res);
    });
    req.end();
  });
}
