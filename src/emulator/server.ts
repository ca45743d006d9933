// The Wan emulator: a real HTTP server on loopback that speaks the Wan 2.7 image-to-video protocol
// (create, poll, cancel, temporary upload) with the service's validation and error bodies, renders real
// MP4 results, and can inject faults. It is a REHEARSAL backend, never the real Wan model.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WanValidationError } from '../wan/errors';
import { MODEL, NEGATIVE_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS } from '../wan/limits';
import { sleep } from '../wan/retry';
import { parseCreateRequest } from '../wan/schema';
import { EmulatorClock } from './clock';
import { answerControl, type RequestLogEntry } from './control';
import { FaultInjector, defaultFaultError } from './faults';
import { CreateRateLimiter } from './rate';
import {
  BodyTooLarge,
  errorReply,
  jsonReply,
  readBody,
  sendReply,
  xmlReply,
  type Reply,
} from './http';
import { serveDownload } from './resultFiles';
import { EMULATOR_HEADER } from './identity';
import { CREATE_PATH, matchRoute } from './routes';
import { TaskList } from './taskList';
import { TaskStore } from './tasks';
import { OssError, UploadStore, answerUpload } from './upload';

export { EMULATOR_HEADER };
export { CREATE_PATH };
export type { RequestLogEntry } from './control';

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
  /**
   * Answer as a paid gateway would: no `X-Wan-Emulator` header, and `GET /__emulator/info` is not found, so
   * clients (src/emulator/identity.ts) take it for a paid endpoint. Tests use it as a paid stand-in; the rest
   * of the control plane still answers on loopback.
   */
  asGateway?: boolean;
  log?: (line: string) => void;
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
  const taskList = new TaskList(tasks, clock);

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
    taskList.add(task, requestId);
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

  function handleList(req: IncomingMessage, url: URL, requestId: string): Reply {
    const auth = authorize(req, requestId);
    if ('status' in auth) return auth;
    return taskList.answer(url.searchParams, auth.account, requestId);
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


  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    lastRequestAt = Date.now();
    if (!opts.asGateway) res.setHeader(EMULATOR_HEADER, 'rehearsal');
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
      entry.status = await serveDownload({ files: tasks.files, clock }, req, res, route.file, requestId, fault);
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
        reply = await answerUpload(uploads, req, requestId, log);
        break;
      case 'control':
        if (opts.asGateway && route.what === 'info') {
          reply = errorReply(404, 'NotFound', `${method} ${url.pathname} is not part of the API.`, requestId);
          break;
        }
        reply = await answerControl({ clock, faults, requestLog, tasks }, req, route.what, requestId);
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
