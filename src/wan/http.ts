// One JSON request over undici, with its failures turned into the core's error kinds.
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { WanApiError, WanNetworkError } from './errors';
import { parseRetryAfter } from './retry';
import { ErrorBodySchema } from './schema';

export interface Timeouts {
  connectMs: number;
  /** Time to the response headers. */
  headersMs: number;
  /** Longest silence while a body streams. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 };

export function createDispatcher(timeouts: Timeouts): Dispatcher {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  });
}

/** Error codes meaning no byte of the request can have reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** A failed TLS handshake: nothing was sent, and trying again will not help. */
function isTlsFailure(code: string): boolean {
  return /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/.test(code);
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'AbortError' || errorCode(error) === 'UND_ERR_ABORTED';
}

/** The scheme, host and port of a URL (never its path or query, which may hold a signature). */
function originOf(url: string | URL): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Wraps a transport failure; an abort is passed through untouched. The message names the server that
 * failed (its origin only), since the user may have several configured.
 */
export function toNetworkError(error: unknown, what: string, url?: string | URL): unknown {
  if (isAbort(error) || error instanceof WanApiError || error instanceof WanNetworkError) return error;
  const code = errorCode(error);
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  const tls = code !== undefined && isTlsFailure(code);
  const neverSent = tls || (code !== undefined && NEVER_SENT.has(code));
  const origin = url === undefined ? undefined : originOf(url);
  return new WanNetworkError(`${what} failed: ${reason}${origin ? ` (${origin})` : ''}`, !neverSent, code, { cause: error, retryable: !tls, url: origin });
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
  /** What the request is, for messages: "Create task", "Poll task 123". */
  what: string;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Sends one request and validates a 2xx JSON answer with `schema`; any other answer throws. */
export async function requestJson<S extends z.ZodType>(req: JsonRequest, schema: S): Promise<z.infer<S>> {
  let status: number;
  let text: string;
  let headers: Record<string, string | string[] | undefined>;
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.body === undefined ? req.headers : { ...req.headers, 'content-type': 'application/json' },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      dispatcher: req.dispatcher,
      signal: req.signal,
    });
    status = res.statusCode;
    headers = res.headers;
    text = await res.body.text();
  } catch (error) {
    throw toNetworkError(error, req.what, req.url);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (status < 200 || status > 299) {
    const body = ErrorBodySchema.safeParse(json);
    const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'));
    if (body.success) {
      throw new WanApiError(status, body.data.code, body.data.message, body.data.request_id, retryAfterMs);
    }
    throw new WanApiError(status, `HTTP${status}`, snippet(text) || 'no error body', undefined, retryAfterMs);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    // A 2xx we cannot read: the request did reach the service.
    throw new WanNetworkError(`${req.what}: unexpected answer from the service (${snippet(text)})`, true, 'BAD_RESPONSE');
  }
  return parsed.data;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
