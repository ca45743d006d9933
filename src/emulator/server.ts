// The Wan emulator: a real HTTP server on loopback that speaks the Wan 2.7 image-to-video protocol
// (create, poll, cancel, temporary upload) with the service's validation and error bodies, renders real
// MP4 results, and can inject faults. It is a REHEARSAL backend, never the real Wan model.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WanValidationError } from '../wan/errors';
import { MODEL, NEGATIVE_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS, TASK_TTL_MS } from '../wan/limits';
import { sleep } from '../wan/retry';
import { TASK_STATUSES, parseCreateRequest } from '../wan/schema';
import { formatServiceTime, parseListTime } from '../wan/time';
import { EmulatorClock } from './clock';
import { FaultInjector, defaultFaultError, type HttpFault } from './faults';
import { ffmpegBackend } from './ffmpeg';
import { CreateRateLimiter } from './rate';
import {
  BodyTooLarge,
  errorReply,
  isLoopback,
  jsonReply,
  parseRange,
  readBody,
  sendReply,
  xmlReply,
  type Reply,
} from './http';
import { TaskStore, type Task } from './tasks';
import { OssError, UploadStore } from './upload';

export const EMULATOR_HEADER = 'X-Wan-Emulator';
export const CREATE_PATH = '/api/v1/services/aigc/video-generation/video-synthesis';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Emulated clock speed (2 = twice as fast as real time). Default 1. */
  timeScale?: number;
  /** Emulated time a task stays PENDING (default 2000). */
  pendingMs?: number;
  /** Emulated time a task stays RUNNING at least (default 6000). */
  runningMs?: number;
  /**
   * When given, only these keys are accepted and each is an account of its own (its tasks, uploads and
   * limits). Otherwise any non-empty key is accepted and every key is the one rehearsal account, so
   * setting or changing a key never hides a task made with another.
   */
  apiKeys?: string[];
  /** Where uploads and results are kept (a fresh temp folder by default, removed on close). */
  dataDir?: string;
  /** Upload size limit (default 100 MB, as DashScope's policy says). */
  maxUploadMb?: number;
  /** Tasks RUNNING at once per account (key); more stay PENDING until one ends. Default 5, as the service. */
  maxRunningPerAccount?: number;
  /** Task creates per second per account, on the emulated clock; more get 429 Throttling.RateQuota. Default 5. */
  maxCreatesPerSecond?: number;
  /** Renders at once (ffmpeg is CPU-bound); more wait their turn. Default 2. */
  renderConcurrency?: number;
  /** Time limit of one render; a task over it ends FAILED with InternalError.Timeout. Default 60 s. */
  renderTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  route: string;
  /** An Authorization header was present (its value is never logged). */
  authorization: boolean;
  /** First 12 hex digits of sha256(key), to tell keys apart without keeping them. */
  keySha256Prefix?: string;
  headers: Record<string, string>;
  status?: number;
  fault?: string;
  taskId?: string;
}

export interface RunningEmulator {
  url: string;
  port: number;
  clock: EmulatorClock;
  faults: FaultInjector;
  tasks: TaskStore;
  uploads: UploadStore;
  dataDir: string;
  /** A copy of the request log. */
  requests(): RequestLogEntry[];
  /** Real milliseconds since the last request of any kind, or 0 while a task is PENDING or RUNNING. */
  idleMs(): number;
  clearRequests(): void;
  close(): Promise<void>;
}

const LOGGED_HEADERS = [
  'content-type',
  'content-length',
  'x-dashscope-async',
  'x-dashscope-ossresourceresolve',
  'range',
  'user-agent',
  'retry-after',
  'x-request-id',
];

const JSON_LIMIT = 40 * 1024 * 1024;
const REQUEST_LOG_LIMIT = 10_000;

type Route =
  | { name: 'create' }
  | { name: 'task'; id: string }
  | { name: 'cancel'; id: string }
  | { name: 'list' }
  | { name: 'policy' }
  | { name: 'upload' }
  | { name: 'download'; file: string }
  | { name: 'control'; what: string }
  | { name: 'none' };

function matchRoute(method: string, path: string): Route {
  if (path === CREATE_PATH && method === 'POST') return { name: 'create' };
  if (/^\/api\/v1\/tasks\/?$/.test(path) && method === 'GET') return { name: 'list' };
  let m = /^\/api\/v1\/tasks\/([^/]+)\/cancel\/?$/.exec(path);
  if (m && method === 'POST') return { name: 'cancel', id: decodeURIComponent(m[1]!) };
  m = /^\/api\/v1\/tasks\/([^/]+)\/?$/.exec(path);
  if (m && method === 'GET') return { name: 'task', id: decodeURIComponent(m[1]!) };
  if (path === '/api/v1/uploads' && method === 'GET') return { name: 'policy' };
  if (path === '/__oss' && method === 'POST') return { name: 'upload' };
  m = /^\/__emulator\/files\/([A-Za-z0-9-]+\.mp4)$/.exec(path);
  if (m && (method === 'GET' || method === 'HEAD')) return { name: 'download', file: m[1]! };
  m = /^\/__emulator(?:\/(clock|faults|requests|info))?\/?$/.exec(path);
  if (m) return { name: 'control', what: m[1] ?? 'info' };
  return { name: 'none' };
}

/** The service cuts over-long prompts silently instead of refusing them (the client refuses first). */
function truncatePrompts(body: unknown): unknown {
  const input = (body as { input?: Record<string, unknown> } | null)?.input;
  if (!input || typeof input !== 'object') return body;
  const cut = (v: unknown, max: number) => (typeof v === 'string' ? [...v].slice(0, max).join('') : v);
  const trimmed = { ...input };
  if ('prompt' in trimmed) trimmed.prompt = cut(trimmed.prompt, PROMPT_MAX_CHARS);
  if ('negative_prompt' in trimmed) trimmed.negative_prompt = cut(trimmed.negative_prompt, NEGATIVE_PROMPT_MAX_CHARS);
  return { ...(body as object), input: trimmed };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The one account of an emulator that accepts any key. */
const REHEARSAL_ACCOUNT = 'rehearsal';

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const clock = new EmulatorClock(opts.timeScale ?? 1);
  const faults = new FaultInjector();
  const ownDataDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'wan-emulator-')));
  const uploads = new UploadStore(join(dataDir, 'uploads'), clock, opts.maxUploadMb);
  const acceptedKeys = opts.apiKeys ? new Set(opts.apiKeys) : undefined;
  let baseUrl = '';
  const tasks = new TaskStore({
    clock,
    uploads,
    dataDir,
    pendingMs: opts.pendingMs ?? 2000,
    runningMs: opts.runningMs ?? 6000,
    publicBase: () => baseUrl,
    log,
    concurrency: opts.renderConcurrency,
    renderTimeoutMs: opts.renderTimeoutMs,
    maxRunningPerAccount: opts.maxRunningPerAccount,
  });
  const createQuota = new CreateRateLimiter(clock, opts.maxCreatesPerSecond);
  const requestLog: RequestLogEntry[] = [];
  let seq = 0;
  let lastRequestAt = Date.now();
  /** Every task created, oldest first, with the create's request ID, for the task list. */
  const created: { task: Task; requestId: string }[] = [];

  /** Checks `Authorization: Bearer KEY`; returns the caller's account (see `apiKeys`) or an error reply. */
  function authorize(req: IncomingMessage, requestId: string): { account: string } | Reply {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.*)$/i.exec(header.trim());
    const key = (m ? m[1]! : '').trim();
    if (!key) return errorReply(401, 'InvalidApiKey', 'No API-key provided.', requestId);
    if (acceptedKeys && !acceptedKeys.has(key)) return errorReply(401, 'InvalidApiKey', 'Invalid API-key provided.', requestId);
    return { account: acceptedKeys ? sha256(key) : REHEARSAL_ACCOUNT };
  }

  async function handleCreate(req: IncomingMessage, requestId: string, entry: RequestLogEntry): Promise<Reply> {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    if (String(req.headers['x-dashscope-async'] ?? '').toLowerCase() !== 'enable') {
      return errorReply(403, 'AccessDenied', 'current user api does not support synchronous calls', requestId);
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, JSON_LIMIT);
    } catch (e) {
      if (e instanceof BodyTooLarge) return errorReply(413, 'RequestTooLarge', 'The request body is too large.', requestId);
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return errorReply(400, 'InvalidParameter', `Required body invalid, please check the request body format. (${(e as Error).message})`, requestId);
    }
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model === 'string' && model !== MODEL) return errorReply(400, 'InvalidParameter', 'Model not exist.', requestId);
    let request;
    try {
      request = parseCreateRequest(truncatePrompts(body));
    } catch (e) {
      if (e instanceof WanValidationError) return errorReply(400, 'InvalidParameter', e.message, requestId);
      throw e;
    }
    const oss = request.input.media.find((m) => m.url.startsWith('oss://'));
    if (oss && String(req.headers['x-dashscope-ossresourceresolve'] ?? '').toLowerCase() !== 'enable') {
      return errorReply(
        400,
        'InvalidParameter',
        `The media url ${oss.url} (${oss.type}) is an oss:// URL; requests that use oss:// URLs must send the header X-DashScope-OssResourceResolve: enable.`,
        requestId,
      );
    }
    // Only a create that would make a task counts against the quota.
    if (!createQuota.take(auth.account)) {
      return errorReply(429, 'Throttling.RateQuota', defaultFaultError(429).message, requestId);
    }
    const task = tasks.create(request, auth.account, faults.takeOutcome());
    forgetOldTasks();
    created.push({ task, requestId });
    entry.taskId = task.id;
    log(`task ${task.id} created (${request.input.media.map((m) => m.type).join('+')})`);
    return jsonReply(200, { output: { task_id: task.id, task_status: 'PENDING' }, request_id: requestId });
  }

  function handleTask(req: IncomingMessage, id: string, requestId: string): Reply {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    const task = tasks.get(id, auth.account);
    if (!task) return jsonReply(200, { request_id: requestId, output: { task_id: id, task_status: 'UNKNOWN' } });
    const usage = tasks.usage(task);
    return jsonReply(200, { request_id: requestId, output: tasks.output(task), ...(usage ? { usage } : {}) });
  }

  function handleCancel(req: IncomingMessage, id: string, requestId: string): Reply {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    const task = tasks.get(id, auth.account);
    if (!task || !tasks.cancel(task)) {
      return errorReply(400, 'UnsupportedOperation', 'Failed to cancel the task, please confirm if the task is in PENDING status.', requestId);
    }
    return jsonReply(200, { request_id: requestId });
  }

  /** Drops list entries the task store has forgotten too (well past their 24 h), so a long demo stays small. */
  function forgetOldTasks(): void {
    const now = clock.now();
    while (created.length && now - created[0]!.task.submitAt > 2 * TASK_TTL_MS) created.shift();
  }

  /**
   * The task list: the caller's account's tasks (see `apiKeys`), newest first, filtered by
   * creation time (`yyyyMMddHHmmss`, UTC+8, both ends inclusive to the second), model and status.
   */
  function handleList(req: IncomingMessage, url: URL, requestId: string): Reply {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    const q = url.searchParams;
    const bad = (message: string) => errorReply(400, 'InvalidParameter', message, requestId);
    const positive = (name: string, fallback: number, max: number): number | Reply => {
      const text = q.get(name);
      if (text === null || text === '') return fallback;
      const n = Number(text);
      return /^\d+$/.test(text) && n >= 1 && n <= max ? n : bad(`The query parameter ${name} must be an integer from 1 to ${max}.`);
    };
    const pageNo = positive('page_no', 1, 1_000_000);
    if (typeof pageNo !== 'number') return pageNo;
    const pageSize = positive('page_size', 10, 100);
    if (typeof pageSize !== 'number') return pageSize;
    const bound = (name: string): number | undefined | Reply => {
      const text = q.get(name);
      if (text === null || text === '') return undefined;
      const at = parseListTime(text);
      return at ? at.getTime() : bad(`The query parameter ${name} must be a time in the form yyyyMMddHHmmss.`);
    };
    const start = bound('start_time');
    if (typeof start === 'object') return start;
    const end = bound('end_time');
    if (typeof end === 'object') return end;
    const status = q.get('status') || undefined;
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
      return bad(`The query parameter status must be one of ${TASK_STATUSES.filter((t) => t !== 'UNKNOWN').join(', ')}.`);
    }
    const model = q.get('model_name') || undefined;
    forgetOldTasks();
    const rows = [];
    for (let i = created.length - 1; i >= 0; i--) {
      const { task: t, requestId: createRequestId } = created[i]!;
      if (t.account !== auth.account || !tasks.get(t.id, auth.account)) continue;
      if (start !== undefined && t.submitAt < start) continue;
      if (end !== undefined && t.submitAt >= end + 1000) continue;
      if (model !== undefined && t.request.model !== model) continue;
      const out = tasks.output(t);
      if (status !== undefined && out.task_status !== status) continue;
      rows.push({
        task_id: t.id,
        status: out.task_status,
        model_name: t.request.model,
        region: 'emulator',
        request_id: createRequestId,
        gmt_create: formatServiceTime(new Date(t.submitAt)),
        ...(out.scheduled_time ? { start_time: out.scheduled_time } : {}),
        ...(out.end_time ? { end_time: out.end_time } : {}),
      });
    }
    return jsonReply(200, {
      request_id: requestId,
      total: rows.length,
      total_page: Math.ceil(rows.length / pageSize),
      page_no: pageNo,
      page_size: pageSize,
      data: rows.slice((pageNo - 1) * pageSize, pageNo * pageSize),
    });
  }

  function handlePolicy(req: IncomingMessage, url: URL, requestId: string): Reply {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    if (url.searchParams.get('action') !== 'getPolicy') {
      return errorReply(400, 'InvalidParameter', 'The query parameter action must be getPolicy.', requestId);
    }
    const model = url.searchParams.get('model');
    if (!model) return errorReply(400, 'InvalidParameter', 'The query parameter model is required.', requestId);
    if (model !== MODEL) return errorReply(400, 'InvalidParameter', 'Model not exist.', requestId);
    return jsonReply(200, { request_id: requestId, data: uploads.issuePolicy(model, auth.account, `${baseUrl}/__oss`) });
  }

  async function handleUpload(req: IncomingMessage, requestId: string): Promise<Reply> {
    try {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > uploads.maxFormBytes) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
      let raw: Buffer;
      try {
        raw = await readBody(req, uploads.maxFormBytes);
      } catch (e) {
        if (e instanceof BodyTooLarge) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
        throw e;
      }
      const contentType = String(req.headers['content-type'] ?? '');
      if (!/^multipart\/form-data/i.test(contentType)) {
        throw new OssError(400, 'InvalidArgument', 'The upload must be a multipart/form-data POST (OSS PostObject).');
      }
      let form: FormData;
      try {
        form = await new Request('http://emulator/__oss', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
      } catch (e) {
        throw new OssError(400, 'MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data. (${(e as Error).message})`);
      }
      const obj = await uploads.acceptForm(form);
      log(`stored upload oss://${obj.key} (${obj.bytes} bytes)`);
      const wanted = Number(form.get('success_action_status'));
      const status = wanted === 200 || wanted === 201 ? wanted : 204;
      return { status, body: Buffer.alloc(0), headers: { etag: `"${sha256(obj.key).slice(0, 32)}"`, 'x-oss-request-id': requestId } };
    } catch (e) {
      if (e instanceof OssError) return xmlReply(e.status, e.xml(requestId));
      throw e;
    }
  }

  async function handleDownload(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    requestId: string,
    fault: HttpFault | undefined,
  ): Promise<number> {
    const file = tasks.files.get(name);
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

  async function handleControl(req: IncomingMessage, what: string, requestId: string): Promise<Reply> {
    if (!isLoopback(req.socket.remoteAddress)) return errorReply(403, 'AccessDenied', 'The emulator control plane answers loopback only.', requestId);
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    if (method === 'POST') {
      const raw = await readBody(req, 1024 * 1024);
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        return errorReply(400, 'InvalidParameter', 'The control request body must be JSON.', requestId);
      }
    }
    if (what === 'info' && method === 'GET') {
      return jsonReply(200, {
        request_id: requestId,
        emulator: 'rehearsal',
        notice: 'This is the Wan Studio emulator, a rehearsal backend. It does not run the Wan model.',
        model: MODEL,
        now: new Date(clock.now()).toISOString(),
        time_scale: clock.timeScale,
        /** Which ffmpeg renders the results: the native binary (development) or WebAssembly (the VSIX). */
        ffmpeg: ffmpegBackend(),
      });
    }
    if (what === 'clock') {
      if (method === 'POST') {
        const advanceMs = (body as { advanceMs?: unknown }).advanceMs;
        if (typeof advanceMs !== 'number' || !(advanceMs >= 0)) {
          return errorReply(400, 'InvalidParameter', 'advanceMs must be a non-negative number of milliseconds.', requestId);
        }
        clock.advance(advanceMs);
      } else if (method !== 'GET') return errorReply(405, 'MethodNotAllowed', 'Use GET or POST.', requestId);
      return jsonReply(200, { request_id: requestId, now: new Date(clock.now()).toISOString(), now_ms: clock.now(), time_scale: clock.timeScale });
    }
    if (what === 'faults') {
      if (method === 'POST') {
        try {
          faults.add(body as never);
        } catch (e) {
          return errorReply(400, 'InvalidParameter', `Bad fault list: ${(e as Error).message}`, requestId);
        }
      } else if (method === 'DELETE') faults.clear();
      else if (method !== 'GET') return errorReply(405, 'MethodNotAllowed', 'Use GET, POST or DELETE.', requestId);
      return jsonReply(200, { request_id: requestId, pending: faults.pending(), applied: faults.applied });
    }
    if (what === 'requests') {
      if (method === 'DELETE') requestLog.length = 0;
      else if (method !== 'GET') return errorReply(405, 'MethodNotAllowed', 'Use GET or DELETE.', requestId);
      return jsonReply(200, { request_id: requestId, requests: requestLog });
    }
    return errorReply(404, 'NotFound', `No control endpoint ${what} for ${method}.`, requestId);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    lastRequestAt = Date.now();
    res.setHeader(EMULATOR_HEADER, 'rehearsal');
    // Clients that follow the service's clock (expiry countdowns) see the emulated one, jumps included.
    res.setHeader('date', new Date(clock.now()).toUTCString());
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const route = matchRoute(method, url.pathname);
    const key = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? '').trim())?.[1]?.trim();
    const entry: RequestLogEntry = {
      seq: ++seq,
      at: new Date().toISOString(),
      method,
      path: url.pathname,
      route: route.name,
      authorization: req.headers.authorization !== undefined,
      ...(key ? { keySha256Prefix: sha256(key).slice(0, 12) } : {}),
      headers: Object.fromEntries(LOGGED_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, String(req.headers[h])])),
    };
    if (route.name !== 'control') {
      requestLog.push(entry);
      // A long-running demo polls for hours: keep the log bounded.
      if (requestLog.length > REQUEST_LOG_LIMIT) requestLog.splice(0, requestLog.length - REQUEST_LOG_LIMIT);
    }
    if (requestLog.length > 5000) requestLog.splice(0, requestLog.length - 5000);
    const started = Date.now();
    res.on('finish', () => log(`${method} ${url.pathname} ${res.statusCode} ${Date.now() - started} ms${entry.fault ? ` [fault ${entry.fault}]` : ''}`));
    res.on('close', () => {
      if (entry.status === undefined) entry.status = res.writableFinished ? res.statusCode : 0;
    });

    const fault = route.name !== 'control' && route.name !== 'none' ? faults.take(route.name) : undefined;
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === 'drop' && fault.phase !== 'after') {
      req.socket.destroy();
      entry.status = 0;
      return;
    }
    if (fault?.kind === 'status') {
      const status = fault.status ?? 500;
      const d = defaultFaultError(status);
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      let reply: Reply;
      if (route.name === 'upload' || route.name === 'download') {
        reply = xmlReply(status, new OssError(status, fault.code ?? d.code, fault.message ?? d.message).xml(requestId));
        Object.assign(reply.headers, headers);
      } else reply = errorReply(status, fault.code ?? d.code, fault.message ?? d.message, requestId, headers);
      req.resume();
      sendReply(res, reply, { head: method === 'HEAD' });
      entry.status = status;
      return;
    }
    if (fault?.kind === 'slow' && route.name !== 'download') await sleep(fault.delayMs ?? 3000);

    if (route.name === 'download') {
      entry.status = await handleDownload(req, res, route.file, requestId, fault);
      return;
    }
    let reply: Reply;
    switch (route.name) {
      case 'create':
        reply = await handleCreate(req, requestId, entry);
        break;
      case 'task':
        reply = handleTask(req, route.id, requestId);
        break;
      case 'cancel':
        reply = handleCancel(req, route.id, requestId);
        break;
      case 'list':
        reply = handleList(req, url, requestId);
        break;
      case 'policy':
        reply = handlePolicy(req, url, requestId);
        break;
      case 'upload':
        reply = await handleUpload(req, requestId);
        break;
      case 'control':
        reply = await handleControl(req, route.what, requestId);
        break;
      default:
        reply = errorReply(404, 'NotFound', `${method} ${url.pathname} is not part of the API.`, requestId);
    }
    if (!req.complete) req.resume();
    entry.status = reply.status;
    if (fault?.kind === 'drop') {
      // phase 'after': the request was fully handled (a create made its task), then the answer is lost.
      entry.status = 0;
      res.socket?.destroy();
      return;
    }
    const truncateAt = fault?.kind === 'truncate' ? Math.min(reply.body.length - 1, fault.afterBytes ?? Math.floor(reply.body.length / 2)) : undefined;
    sendReply(res, reply, { head: method === 'HEAD', truncateAt });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`internal error: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) sendReply(res, errorReply(500, 'InternalError', 'The emulator hit an internal error.', randomUUID()));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  baseUrl = `http://${urlHost}:${port}`;

  let closed = false;
  return {
    url: baseUrl,
    port,
    clock,
    faults,
    tasks,
    uploads,
    dataDir,
    requests: () => requestLog.map((e) => ({ ...e, headers: { ...e.headers } })),
    idleMs: () => (tasks.active() > 0 ? 0 : Date.now() - lastRequestAt),
    clearRequests: () => {
      requestLog.length = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      await tasks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
