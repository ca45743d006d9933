// Small HTTP helpers for the emulator: JSON/XML answers, bounded body reading, Range parsing.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {}

/** Reads the whole request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLarge(`request body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

export interface Reply {
  status: number;
  body: Buffer;
  headers: Record<string, string>;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

export function errorReply(status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}): Reply {
  return jsonReply(status, { code, message, request_id: requestId }, headers);
}

export function xmlReply(status: number, xml: string): Reply {
  return { status, body: Buffer.from(xml), headers: { 'content-type': 'application/xml' } };
}

/** Sends a reply; with `truncateAt` it promises the whole body but closes the connection after that many bytes. */
export function sendReply(res: ServerResponse, reply: Reply, opts: { head?: boolean; truncateAt?: number } = {}): void {
  res.statusCode = reply.status;
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  res.setHeader('content-length', String(reply.body.length));
  if (opts.head) {
    res.end();
    return;
  }
  if (opts.truncateAt !== undefined && opts.truncateAt < reply.body.length) {
    res.write(reply.body.subarray(0, opts.truncateAt), () => res.destroy());
    return;
  }
  res.end(reply.body);
}

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/** Parses a single-range `Range: bytes=...` header against a size; undefined means "send it all". */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (!m[1] && !m[2])) return undefined; // malformed or multi-range: ignore, as servers may
  if (!m[1]) {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '127.0.0.1' || address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1');
}

