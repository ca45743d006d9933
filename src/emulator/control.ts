// The emulator's control plane for tests, loopback only: its clock, its one-shot faults, the requests it
// received, and what it is.
import type { IncomingMessage } from 'node:http';
import { ffmpegBackend } from '../ffmpeg/ffmpeg';
import { MODEL } from '../wan/limits';
import type { EmulatorClock } from './clock';
import type { FaultInjector } from './faults';
import type { TaskStore } from './tasks';
import { errorReply, isLoopback, jsonReply, readBody, type Reply } from './http';

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

export interface ControlPlane {
  clock: EmulatorClock;
  faults: FaultInjector;
  requestLog: RequestLogEntry[];
  tasks: Pick<TaskStore, 'holdRunning' | 'holding'>;
}

/** Answers `GET|POST /__emulator/<what>` (loopback only). */
export async function answerControl(plane: ControlPlane, req: IncomingMessage, what: string, requestId: string): Promise<Reply> {
  const { clock, faults, requestLog, tasks } = plane;
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
  if (what === 'hold') {
    // `{ "running": true }` keeps every started task RUNNING until `{ "running": false }` (see TaskStore.holdRunning).
    if (method === 'POST') {
      const running = (body as { running?: unknown }).running;
      if (typeof running !== 'boolean') return errorReply(400, 'InvalidParameter', 'running must be true or false.', requestId);
      tasks.holdRunning(running);
    } else if (method !== 'GET') return errorReply(405, 'MethodNotAllowed', 'Use GET or POST.', requestId);
    return jsonReply(200, { request_id: requestId, running: tasks.holding });
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
