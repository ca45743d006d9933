// The emulator over real HTTP on loopback: protocol, validation and error bodies, task states over
// time, cancel, 24 h expiry, the upload flow, real MP4 results for each media combination, and faults.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import { ffmpeg } from '../support/fixtures';
import { REHEARSAL_COMMENT } from '../../src/emulator/render';
import { CREATE_PATH, startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { MODEL, TASK_TTL_MS } from '../../src/wan/limits';
import { estimateOutputSize } from '../../src/wan/sizing';
import { formatListTime, parseServiceTime } from '../../src/wan/time';

const KEY = 'sk-emulator-test-key';
const SERVICE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

interface Json {
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A static file server for fixtures, so media arrive over real http:// URLs. */
async function serveDir(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    readFile(join(dir, name)).then(
      (buf) => {
        res.setHeader('content-length', buf.length);
        res.end(buf);
      },
      () => {
        res.statusCode = 404;
        res.end('not found');
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Raw GET that reports how many body bytes arrived before the connection ended (or broke). */
function rawGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; bytes: number; error?: string }> {
  return new Promise((resolve) => {
    let status = 0;
    let headers: Record<string, unknown> = {};
    let bytes = 0;
    const req = httpGet(url, { agent: false }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status, headers, bytes }));
      res.on('aborted', () => resolve({ status, headers, bytes, error: 'aborted' }));
      res.on('error', (e) => resolve({ status, headers, bytes, error: e.message }));
    });
    req.on('error', (e) => resolve({ status, headers, bytes, error: e.message }));
  });
}

describe('emulator', function () {
  this.timeout(90_000);
  let emu: RunningEmulator;
  let slow: RunningEmulator; // long PENDING, small upload limit: cancel, expiry, size limits
  let fixtures: string;
  let files: { server: Server; url: string };
  const firstPng = () => `${files.url}/first.png`;

  async function api(
    e: RunningEmulator,
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string; key?: string | null; async?: boolean; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Json; headers: Headers }> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const key = opts.key === undefined ? KEY : opts.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (opts.async !== false && method === 'POST') headers['x-dashscope-async'] = 'enable';
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(e.url + path, {
      method,
      headers,
      ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
  }

  function body(media: { type: string; url: string }[], parameters: Json = {}, prompt = 'a rehearsal'): Json {
    return { model: MODEL, input: { prompt, media }, parameters: { resolution: '720P', duration: 2, ...parameters } };
  }

  async function create(e: RunningEmulator, b: Json, headers: Record<string, string> = {}): Promise<string> {
    const r = await api(e, 'POST', CREATE_PATH, { body: b, headers });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.output.task_status, 'PENDING');
    assert.match(r.body.request_id, /^[0-9a-f-]{36}$/);
    return r.body.output.task_id as string;
  }

  /** Polls until a terminal status; returns the last answer and every status seen in order. */
  async function waitTask(e: RunningEmulator, id: string, timeoutMs = 60_000): Promise<{ last: Json; seen: string[] }> {
    const seen: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await api(e, 'GET', `/api/v1/tasks/${id}`);
      assert.equal(r.status, 200);
      const s = r.body.output.task_status as string;
      if (seen[seen.length - 1] !== s) seen.push(s);
      if (!['PENDING', 'RUNNING'].includes(s)) return { last: r.body, seen };
      if (Date.now() > deadline) throw new Error(`task ${id} still ${s}`);
      await new Promise((res) => setTimeout(res, 40));
    }
  }

  before(async function () {
    this.timeout(120_000);
    fixtures = await mkdtemp(join(tmpdir(), 'wan-emu-test-'));
    const f = (n: string) => join(fixtures, n);
    await Promise.all([
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=750x1000:rate=1', '-frames:v', '1', f('first.png')]),
      ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=800x1000:rate=1', '-frames:v', '1', f('last.jpg')]),
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=100x100:rate=1', '-frames:v', '1', f('tiny.png')]),
      ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:a', 'libmp3lame', f('voice.mp3')]),
      ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=330:duration=2.5', f('voice.wav')]),
      ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=330:duration=1', f('short.wav')]),
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=500',
        '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', f('clip.mp4'),
      ]),
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=480x480:rate=24', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', f('clip4.mp4')]),
    ]);
    // 1.5 MB of noise for the upload size limit.
    await writeFile(f('big.bin'), Buffer.alloc(1.5 * 1024 * 1024, 7));
    files = await serveDir(fixtures);
    // PENDING lasts long enough for the first poll, sent right after the create's answer, to see it even on a
    // loaded 2-core machine (at 100 ms the first poll sometimes came after it, in CI beside other suites).
    emu = await startEmulator({ pendingMs: 500, runningMs: 250, apiKeys: [KEY] });
    slow = await startEmulator({ pendingMs: 60_000, runningMs: 100, apiKeys: [KEY], maxUploadMb: 1 });
  });

  after(async () => {
    await emu?.close();
    await slow?.close();
    await new Promise((r) => files?.server.close(r));
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  });

  describe('results for each media combination', () => {
    const portrait = estimateOutputSize({ width: 750, height: 1000 }, '720P');
    const landscape = estimateOutputSize({ width: 640, height: 360 }, '720P');

    async function checkSucceeded(id: string, expect: { width: number; height: number; duration: number; clip?: number }) {
      const { last, seen } = await waitTask(emu, id);
      assert.equal(last.output.task_status, 'SUCCEEDED', JSON.stringify(last));
      assert.equal(seen[0], 'PENDING');
      assert.deepEqual(seen.filter((s) => s !== 'RUNNING'), ['PENDING', 'SUCCEEDED']);
      for (const t of ['submit_time', 'scheduled_time', 'end_time']) assert.match(last.output[t], SERVICE_TIME, t);
      assert.ok(last.output.submit_time <= last.output.scheduled_time && last.output.scheduled_time <= last.output.end_time);
      assert.deepEqual(last.usage, {
        duration: expect.duration,
        input_video_duration: expect.clip ?? 0,
        output_video_duration: expect.duration,
        SR: 720,
        video_count: 1,
      });
      const res = await fetch(last.output.video_url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'video/mp4');
      assert.equal(res.headers.get('x-wan-emulator'), 'rehearsal');
      const buf = Buffer.from(await res.arrayBuffer());
      assert.equal(Number(res.headers.get('content-length')), buf.length);
      assert.equal(buf.subarray(4, 8).toString('latin1'), 'ftyp');
      // +faststart: moov before mdat.
      assert.ok(buf.indexOf('moov') < buf.indexOf('mdat'), 'moov box comes first');
      const path = join(fixtures, `${id}.mp4`);
      await writeFile(path, buf);
      const info = await inspectMedia(path);
      assert.equal(info.video?.codec, 'h264');
      assert.equal(info.video?.width, expect.width);
      assert.equal(info.video?.height, expect.height);
      assert.equal(info.video?.fps, 24);
      assert.equal(info.audio?.codec, 'aac');
      assert.ok(Math.abs((info.durationSeconds ?? 0) - expect.duration) < 0.1, `duration ${info.durationSeconds}`);
      assert.equal(info.comment, REHEARSAL_COMMENT);
      return last;
    }

    it('first_frame (data: URI) → a slow zoom at the estimated size', async () => {
      const data = `data:image/png;base64,${(await readFile(join(fixtures, 'first.png'))).toString('base64')}`;
      const id = await create(emu, body([{ type: 'first_frame', url: data }], { duration: 3 }, 'a cat'));
      const last = await checkSucceeded(id, { ...portrait, duration: 3 });
      assert.equal(last.output.orig_prompt, 'a cat');
      assert.deepEqual(portrait, { width: 816, height: 1104 });
    });

    it('answers a PENDING or RUNNING task as the reference shows: no orig_prompt, end_time, video_url or usage before success', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }], { duration: 2 }, 'not echoed yet'));
      const early: Json[] = [];
      for (;;) {
        const r = await api(emu, 'GET', `/api/v1/tasks/${id}`);
        if (!['PENDING', 'RUNNING'].includes(r.body.output.task_status as string)) {
          assert.equal(r.body.output.orig_prompt, 'not echoed yet', 'echoed once it succeeded');
          break;
        }
        early.push(r.body);
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.ok(early.length > 0, 'seen before it ended');
      for (const b of early) {
        const allowed = b.output.task_status === 'RUNNING' ? ['task_id', 'task_status', 'submit_time', 'scheduled_time'] : ['task_id', 'task_status', 'submit_time'];
        assert.deepEqual(Object.keys(b.output).filter((k) => !allowed.includes(k)), [], JSON.stringify(b));
        assert.equal(b.usage, undefined, JSON.stringify(b));
      }
    });

    it('first_frame + driving_audio (mp3 longer than duration is cut)', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }, { type: 'driving_audio', url: `${files.url}/voice.mp3` }]));
      await checkSucceeded(id, { ...portrait, duration: 2 });
    });

    it('first_frame + last_frame with watermark', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }, { type: 'last_frame', url: `${files.url}/last.jpg` }], { watermark: true }));
      await checkSucceeded(id, { ...portrait, duration: 2 });
    });

    it('first_frame + last_frame + driving_audio (wav shorter than duration is padded)', async () => {
      const id = await create(
        emu,
        body([
          { type: 'first_frame', url: firstPng() },
          { type: 'last_frame', url: `${files.url}/last.jpg` },
          { type: 'driving_audio', url: `${files.url}/voice.wav` },
        ], { duration: 3 }),
      );
      await checkSucceeded(id, { ...portrait, duration: 3 });
    });

    it('first_clip → the clip then its continuation, at the clip aspect', async () => {
      const id = await create(emu, body([{ type: 'first_clip', url: `${files.url}/clip.mp4` }], { duration: 3 }));
      await checkSucceeded(id, { ...landscape, duration: 3, clip: 2 });
    });

    it('first_clip + last_frame', async () => {
      const id = await create(emu, body([{ type: 'first_clip', url: `${files.url}/clip.mp4` }, { type: 'last_frame', url: `${files.url}/last.jpg` }], { duration: 3 }));
      await checkSucceeded(id, { ...landscape, duration: 3, clip: 2 });
    });

    it('serves the result with Range (206), HEAD and 416', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      const { last } = await waitTask(emu, id);
      const url = last.output.video_url as string;
      const head = await fetch(url, { method: 'HEAD' });
      assert.equal(head.status, 200);
      const size = Number(head.headers.get('content-length'));
      assert.ok(size > 1000);
      assert.equal(head.headers.get('accept-ranges'), 'bytes');
      const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 100-199/${size}`);
      assert.equal((await part.arrayBuffer()).byteLength, 100);
      const tail = await fetch(url, { headers: { range: `bytes=${size - 10}-` } });
      assert.equal(tail.status, 206);
      assert.equal((await tail.arrayBuffer()).byteLength, 10);
      const bad = await fetch(url, { headers: { range: `bytes=${size + 5}-` } });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers.get('content-range'), `bytes */${size}`);
      const missing = await fetch(`${emu.url}/__emulator/files/00000000-0000-0000-0000-000000000000.mp4`);
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /<Code>NoSuchKey<\/Code>/);
    });
  });

  describe('errors on create', () => {
    const ok = () => body([{ type: 'first_frame', url: firstPng() }]);

    it('no key, empty key, wrong key → 401 InvalidApiKey', async () => {
      for (const [key, message] of [
        [null, 'No API-key provided.'],
        ['', 'No API-key provided.'],
        ['sk-wrong', 'Invalid API-key provided.'],
      ] as const) {
        const r = await api(emu, 'POST', CREATE_PATH, { body: ok(), key });
        assert.equal(r.status, 401);
        assert.equal(r.body.code, 'InvalidApiKey');
        assert.equal(r.body.message, message);
        assert.match(r.body.request_id, /^[0-9a-f-]{36}$/);
        assert.equal(r.headers.get('x-wan-emulator'), 'rehearsal');
      }
      const poll = await api(emu, 'GET', '/api/v1/tasks/whatever', { key: 'sk-wrong' });
      assert.equal(poll.status, 401);
    });

    it('without X-DashScope-Async → 403 AccessDenied', async () => {
      const r = await api(emu, 'POST', CREATE_PATH, { body: ok(), async: false });
      assert.equal(r.status, 403);
      assert.deepEqual([r.body.code, r.body.message], ['AccessDenied', 'current user api does not support synchronous calls']);
    });

    it('bad JSON, unknown model, and schema failures → 400 InvalidParameter naming the field', async () => {
      const bad = await api(emu, 'POST', CREATE_PATH, { raw: '{"model":' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'InvalidParameter');
      const model = await api(emu, 'POST', CREATE_PATH, { body: { ...ok(), model: 'wan2.6-i2v' } });
      assert.deepEqual([model.status, model.body.code, model.body.message], [400, 'InvalidParameter', 'Model not exist.']);
      const cases: [Json, RegExp][] = [
        [body([{ type: 'last_frame', url: firstPng() }]), /input\.media: .*not a valid combination/],
        [body([{ type: 'first_frame', url: firstPng() }, { type: 'first_frame', url: firstPng() }]), /more than once/],
        [body([{ type: 'first_frame', url: firstPng() }], { duration: 16 }), /parameters\.duration: must be at most 15/],
        [body([{ type: 'first_frame', url: firstPng() }], { resolution: '480P' }), /parameters\.resolution/],
        [body([{ type: 'first_frame', url: firstPng() }], { seed: -1 }), /parameters\.seed/],
        [body([{ type: 'first_frame', url: 'ftp://x/y.png' }]), /input\.media\[0\]\.url/],
      ];
      for (const [b, re] of cases) {
        const r = await api(emu, 'POST', CREATE_PATH, { body: b });
        assert.equal(r.status, 400, JSON.stringify(b).slice(0, 200));
        assert.equal(r.body.code, 'InvalidParameter');
        assert.match(r.body.message, re);
      }
    });

    it('cuts an over-long prompt to 5000 characters silently, as the service does', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }], {}, `${'猫'.repeat(4999)}xyz`));
      const { last } = await waitTask(emu, id);
      assert.equal(last.output.orig_prompt, `${'猫'.repeat(4999)}x`);
    });

    it('oss:// media without X-DashScope-OssResourceResolve → 400', async () => {
      const r = await api(emu, 'POST', CREATE_PATH, { body: body([{ type: 'first_frame', url: 'oss://dashscope-instant/x/a.png' }]) });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 'InvalidParameter');
      assert.match(r.body.message, /X-DashScope-OssResourceResolve: enable/);
    });

    it('unknown routes answer a JSON 404', async () => {
      const r = await api(emu, 'GET', '/api/v1/nothing');
      assert.equal(r.status, 404);
      assert.ok(r.body.request_id);
    });
  });

  describe('closing', () => {
    it('kills a running render and waits for it before removing its data', async () => {
      const own = await startEmulator({ pendingMs: 0, runningMs: 0 });
      const id = await create(own, body([{ type: 'first_frame', url: firstPng() }], { duration: 15, resolution: '1080P' }));
      for (let i = 0; i < 100 && (await api(own, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status !== 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const started = Date.now();
      await own.close();
      assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms: the render was not killed`);
      assert.equal(existsSync(own.dataDir), false);
    });
  });

  describe('task media checked when the task runs', () => {
    it('an image below 240 px → FAILED InvalidParameter', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: `${files.url}/tiny.png` }]));
      const { last } = await waitTask(emu, id);
      assert.equal(last.output.task_status, 'FAILED');
      assert.equal(last.output.code, 'InvalidParameter');
      assert.match(last.output.message, /the first_frame file is 100x100 px/);
      assert.doesNotMatch(last.output.message, /-media/, 'no emulator work-file names');
      assert.equal(last.usage, undefined);
      assert.match(last.output.end_time, SERVICE_TIME);
    });

    it('audio shorter than 2 s, and an unreachable URL → FAILED InvalidParameter', async () => {
      const a = await create(emu, body([{ type: 'first_frame', url: firstPng() }, { type: 'driving_audio', url: `${files.url}/short.wav` }]));
      const b = await create(emu, body([{ type: 'first_frame', url: `${files.url}/missing.png` }]));
      const ra = (await waitTask(emu, a)).last.output;
      const rb = (await waitTask(emu, b)).last.output;
      assert.deepEqual([ra.task_status, ra.code], ['FAILED', 'InvalidParameter']);
      assert.match(ra.message, /driving_audio/);
      assert.deepEqual([rb.task_status, rb.code], ['FAILED', 'InvalidParameter']);
      assert.match(rb.message, /404/);
    });

    it('a first_clip as long as duration → FAILED InvalidParameter', async () => {
      const id = await create(emu, body([{ type: 'first_clip', url: `${files.url}/clip4.mp4` }], { duration: 4 }));
      const { last } = await waitTask(emu, id);
      assert.deepEqual([last.output.task_status, last.output.code], ['FAILED', 'InvalidParameter']);
      assert.match(last.output.message, /duration/);
    });
  });

  describe('cancel, UNKNOWN and 24 h expiry', () => {
    it('cancels a PENDING task only', async () => {
      const id = await create(slow, body([{ type: 'first_frame', url: firstPng() }]));
      const c = await api(slow, 'POST', `/api/v1/tasks/${id}/cancel`);
      assert.equal(c.status, 200);
      assert.match(c.body.request_id, /^[0-9a-f-]{36}$/);
      const q = await api(slow, 'GET', `/api/v1/tasks/${id}`);
      assert.equal(q.body.output.task_status, 'CANCELED');
      const again = await api(slow, 'POST', `/api/v1/tasks/${id}/cancel`);
      assert.equal(again.status, 400);
      assert.deepEqual(again.body.code, 'UnsupportedOperation');
      assert.equal(again.body.message, 'Failed to cancel the task, please confirm if the task is in PENDING status.');

      // A task past PENDING cannot be canceled.
      const run = await create(slow, body([{ type: 'first_frame', url: firstPng() }]));
      slow.clock.advance(60_000);
      const r = await api(slow, 'GET', `/api/v1/tasks/${run}`);
      assert.ok(['RUNNING', 'SUCCEEDED'].includes(r.body.output.task_status));
      const late = await api(slow, 'POST', `/api/v1/tasks/${run}/cancel`);
      assert.equal(late.status, 400);
      assert.equal(late.body.code, 'UnsupportedOperation');
      assert.equal((await waitTask(slow, run)).last.output.task_status, 'SUCCEEDED');
    });

    it('the hold control keeps unended tasks RUNNING until released, ended ones ended; then they end, with the release as end_time', async () => {
      const held = await startEmulator({ pendingMs: 0, runningMs: 100 });
      try {
        const hold = (running: unknown) => fetch(`${held.url}/__emulator/hold`, { method: 'POST', body: JSON.stringify({ running }) });
        assert.equal((await hold('yes')).status, 400, 'running must be a boolean');
        // A task that ended before the hold stays ended (and takes no RUNNING slot of the account).
        const ended = await create(held, body([{ type: 'first_frame', url: firstPng() }]));
        assert.equal((await waitTask(held, ended)).last.output.task_status, 'SUCCEEDED');
        const on = await hold(true);
        assert.equal(on.status, 200);
        assert.equal(((await on.json()) as Json).running, true);
        const id = await create(held, body([{ type: 'first_frame', url: firstPng() }]));
        // Rendered and past its runningMs, it stays RUNNING.
        const deadline = Date.now() + 60_000;
        while (!held.tasks.renderTimings.some((r) => r.taskId === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(held.tasks.renderTimings.some((r) => r.taskId === id), 'the task was rendered');
        held.clock.advance(60_000);
        assert.equal((await api(held, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'RUNNING');
        held.clock.advance(60_000);
        assert.equal((await api(held, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'RUNNING');
        assert.equal((await api(held, 'GET', `/api/v1/tasks/${ended}`)).body.output.task_status, 'SUCCEEDED');
        const releasedAt = held.clock.now();
        assert.equal(((await (await hold(false)).json()) as Json).running, false);
        // Its outcome is kept a moment after the render's timing (the work folder is removed first): on a loaded
        // machine the release can come in between, so the end is waited for (it never comes while held).
        const done = { body: (await waitTask(held, id, 20_000)).last };
        assert.equal(done.body.output.task_status, 'SUCCEEDED');
        const end = parseServiceTime(done.body.output.end_time)!.getTime();
        assert.ok(Math.abs(end - releasedAt) < 1000, `end_time ${done.body.output.end_time} is the release`);
        assert.equal(((await (await fetch(`${held.url}/__emulator/hold`)).json()) as Json).running, false);
      } finally {
        await held.close();
      }
    });

    it('UNKNOWN for a missing task, another key\'s task, and one older than 24 h', async () => {
      const missing = await api(emu, 'GET', '/api/v1/tasks/00000000-0000-0000-0000-000000000000');
      assert.equal(missing.status, 200);
      assert.deepEqual(missing.body.output, { task_id: '00000000-0000-0000-0000-000000000000', task_status: 'UNKNOWN' });

      const other = await startEmulator({ pendingMs: 1000, runningMs: 100, apiKeys: [KEY, 'sk-other'] });
      try {
        const id = await create(other, body([{ type: 'first_frame', url: firstPng() }]));
        assert.equal((await api(other, 'GET', `/api/v1/tasks/${id}`, { key: 'sk-other' })).body.output.task_status, 'UNKNOWN');
        assert.equal((await api(other, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'PENDING');
        other.clock.advance(TASK_TTL_MS - 5000);
        assert.notEqual((await api(other, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'UNKNOWN');
        // Through the HTTP control plane this time.
        const adv = await fetch(`${other.url}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 10_000 }) });
        assert.equal(adv.status, 200);
        const q = await api(other, 'GET', `/api/v1/tasks/${id}`);
        assert.deepEqual(q.body.output, { task_id: id, task_status: 'UNKNOWN' });
      } finally {
        await other.close();
      }
    });

    it('accepting any key, every key is the one rehearsal account: a task made with one key is found, listed and canceled with another', async () => {
      const open = await startEmulator({ pendingMs: 60_000, runningMs: 100 });
      try {
        const id = await create(open, body([{ type: 'first_frame', url: firstPng() }]));
        const seen = await api(open, 'GET', `/api/v1/tasks/${id}`, { key: 'sk-set-while-it-ran' });
        assert.equal(seen.body.output.task_status, 'PENDING');
        const listed = await api(open, 'GET', '/api/v1/tasks?page_size=100', { key: 'sk-set-while-it-ran' });
        assert.ok((listed.body.data as { task_id: string }[]).some((t) => t.task_id === id), 'listed for the other key');
        const canceled = await api(open, 'POST', `/api/v1/tasks/${id}/cancel`, { key: 'sk-set-while-it-ran' });
        assert.equal(canceled.status, 200);
        assert.equal((await api(open, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'CANCELED');
      } finally {
        await open.close();
      }
    });
  });

  describe('task list (GET /api/v1/tasks)', () => {
    let lst: RunningEmulator;
    const ids: string[] = [];
    const created: string[] = [];
    before(async () => {
      // Tasks stay PENDING (no renders); the clock puts ten minutes between creates.
      lst = await startEmulator({ pendingMs: 2 * 60 * 60_000, runningMs: 100, apiKeys: [KEY, 'sk-other'] });
      for (let i = 0; i < 5; i++) {
        ids.push(await create(lst, body([{ type: 'first_frame', url: firstPng() }])));
        lst.clock.advance(10 * 60_000);
      }
      await api(lst, 'POST', CREATE_PATH, { body: body([{ type: 'first_frame', url: firstPng() }]), key: 'sk-other' });
      assert.equal((await api(lst, 'POST', `/api/v1/tasks/${ids[1]}/cancel`)).status, 200);
      const all = await api(lst, 'GET', '/api/v1/tasks?page_size=100');
      for (const id of ids) created.push(all.body.data.find((t: Json) => t.task_id === id).gmt_create);
    });
    after(async () => lst?.close());
    const listed = async (query: string) => {
      const r = await api(lst, 'GET', `/api/v1/tasks${query}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };

    it('answers the documented shape: the caller\'s tasks, newest first, paged', async () => {
      const page1 = await listed('?page_no=1&page_size=2');
      assert.deepEqual(Object.keys(page1).sort(), ['data', 'page_no', 'page_size', 'request_id', 'total', 'total_page']);
      assert.deepEqual([page1.total, page1.total_page, page1.page_no, page1.page_size], [5, 3, 1, 2]);
      assert.deepEqual(page1.data.map((t: Json) => t.task_id), [ids[4], ids[3]]);
      const item = page1.data[0];
      assert.deepEqual(Object.keys(item).sort(), ['gmt_create', 'model_name', 'region', 'request_id', 'status', 'task_id']);
      assert.equal(item.model_name, MODEL);
      assert.equal(item.status, 'PENDING');
      assert.match(item.gmt_create, SERVICE_TIME);
      assert.match(item.request_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual((await listed('?page_no=3&page_size=2')).data.map((t: Json) => t.task_id), [ids[0]]);
      assert.deepEqual((await listed('?page_no=4&page_size=2')).data, []);
      const defaults = await listed('');
      assert.deepEqual([defaults.page_no, defaults.page_size, defaults.data.length], [1, 10, 5]);
      const canceled = (await listed('?status=CANCELED')).data[0];
      assert.deepEqual([canceled.task_id, canceled.status], [ids[1], 'CANCELED']);
      assert.match(canceled.end_time, SERVICE_TIME);
    });

    it('filters by creation time (yyyyMMddHHmmss, UTC+8, inclusive), model and status', async () => {
      const at = (i: number) => formatListTime(parseServiceTime(created[i])!);
      const window = await listed(`?start_time=${at(1)}&end_time=${at(3)}`);
      assert.deepEqual(window.data.map((t: Json) => t.task_id), [ids[3], ids[2], ids[1]]);
      assert.equal(window.total, 3);
      assert.deepEqual((await listed(`?start_time=${at(4)}`)).data.map((t: Json) => t.task_id), [ids[4]]);
      assert.deepEqual((await listed(`?status=PENDING&end_time=${at(2)}`)).data.map((t: Json) => t.task_id), [ids[2], ids[0]]);
      assert.equal((await listed(`?model_name=${MODEL}`)).total, 5);
      assert.equal((await listed('?model_name=wan2.6-i2v')).total, 0);
      const other = await api(lst, 'GET', '/api/v1/tasks', { key: 'sk-other' });
      assert.equal(other.body.total, 1);
    });

    it('refuses malformed parameters with 400 InvalidParameter, and a missing key with 401', async () => {
      for (const query of ['page_no=0', 'page_size=101', 'page_size=x', 'start_time=2026-04-25', 'end_time=20261340000000', 'status=DONE']) {
        const r = await api(lst, 'GET', `/api/v1/tasks?${query}`);
        assert.deepEqual([r.status, r.body.code], [400, 'InvalidParameter'], query);
      }
      assert.equal((await api(lst, 'GET', '/api/v1/tasks', { key: null })).status, 401);
    });

    it('drops tasks older than 24 h, as their lookups answer UNKNOWN', async () => {
      lst.clock.advance(TASK_TTL_MS - 25 * 60_000);
      assert.deepEqual((await listed('')).data.map((t: Json) => t.task_id), [ids[4], ids[3]]);
      lst.clock.advance(2 * TASK_TTL_MS);
      assert.deepEqual([(await listed('')).total, (await listed('')).data], [0, []]);
    });
  });

  describe('temporary upload (oss://)', () => {
    async function policy(e: RunningEmulator): Promise<Json> {
      const r = await api(e, 'GET', `/api/v1/uploads?action=getPolicy&model=${MODEL}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data;
    }

    async function post(p: Json, key: string, file: Buffer, name: string, override: Record<string, string> = {}) {
      const form = new FormData();
      const fields: Record<string, string> = {
        OSSAccessKeyId: p.oss_access_key_id,
        Signature: p.signature,
        policy: p.policy,
        key,
        'x-oss-object-acl': p.x_oss_object_acl,
        'x-oss-forbid-overwrite': p.x_oss_forbid_overwrite,
        success_action_status: '200',
        ...override,
      };
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([new Uint8Array(file)]), name);
      const res = await fetch(p.upload_host, { method: 'POST', body: form });
      return { status: res.status, text: await res.text() };
    }

    it('policy → form upload → create with oss:// URLs → SUCCEEDED', async () => {
      const p = await policy(emu);
      assert.equal(p.upload_host, `${emu.url}/__oss`);
      for (const k of ['policy', 'signature', 'upload_dir', 'oss_access_key_id', 'x_oss_object_acl', 'x_oss_forbid_overwrite']) assert.equal(typeof p[k], 'string', k);
      assert.equal(p.max_file_size_mb, 100);
      assert.ok(p.expire_in_seconds > 0);
      const imgKey = `${p.upload_dir}/first.png`;
      const audKey = `${p.upload_dir}/voice.mp3`;
      assert.equal((await post(p, imgKey, await readFile(join(fixtures, 'first.png')), 'first.png')).status, 200);
      assert.equal((await post(p, audKey, await readFile(join(fixtures, 'voice.mp3')), 'voice.mp3')).status, 200);
      const media = [{ type: 'first_frame', url: `oss://${imgKey}` }, { type: 'driving_audio', url: `oss://${audKey}` }];
      const refused = await api(emu, 'POST', CREATE_PATH, { body: body(media) });
      assert.equal(refused.status, 400);
      const id = await create(emu, body(media), { 'X-DashScope-OssResourceResolve': 'enable' });
      const { last } = await waitTask(emu, id);
      assert.equal(last.output.task_status, 'SUCCEEDED', JSON.stringify(last));
      // An oss:// key nobody uploaded fails the task.
      const ghost = await create(emu, body([{ type: 'first_frame', url: `oss://${p.upload_dir}/ghost.png` }]), { 'X-DashScope-OssResourceResolve': 'enable' });
      const g = (await waitTask(emu, ghost)).last.output;
      assert.deepEqual([g.task_status, g.code], ['FAILED', 'InvalidParameter']);
    });

    it('refuses a bad signature, a key outside upload_dir, an overwrite, and a file over max_file_size_mb', async () => {
      const p = await policy(emu);
      const png = await readFile(join(fixtures, 'first.png'));
      const sig = await post(p, `${p.upload_dir}/a.png`, png, 'a.png', { Signature: 'forged' });
      assert.equal(sig.status, 403);
      assert.match(sig.text, /<Code>SignatureDoesNotMatch<\/Code>/);
      const outside = await post(p, 'elsewhere/a.png', png, 'a.png');
      assert.equal(outside.status, 403);
      assert.match(outside.text, /<Code>AccessDenied<\/Code>/);
      assert.equal((await post(p, `${p.upload_dir}/b.png`, png, 'b.png')).status, 200);
      const twice = await post(p, `${p.upload_dir}/b.png`, png, 'b.png');
      assert.equal(twice.status, 409);
      const sp = await policy(slow);
      assert.equal(sp.max_file_size_mb, 1);
      const big = await post(sp, `${sp.upload_dir}/big.bin`, await readFile(join(fixtures, 'big.bin')), 'big.bin');
      assert.equal(big.status, 400);
      assert.match(big.text, /<Code>EntityTooLarge<\/Code>/);
      const noAuth = await api(emu, 'GET', `/api/v1/uploads?action=getPolicy&model=${MODEL}`, { key: null });
      assert.equal(noAuth.status, 401);
    });
  });

  describe('faults', () => {
    beforeEach(() => emu.faults.clear());

    it('status: 429 with Retry-After on create, one-shot; times: 2 on task', async () => {
      emu.faults.add({ route: 'create', kind: 'status', status: 429, retryAfterSeconds: 2 });
      const b = body([{ type: 'first_frame', url: firstPng() }]);
      const r = await api(emu, 'POST', CREATE_PATH, { body: b });
      assert.equal(r.status, 429);
      assert.equal(r.body.code, 'Throttling.RateQuota');
      assert.equal(r.headers.get('retry-after'), '2');
      const id = await create(emu, b);
      emu.faults.add({ route: 'task', kind: 'status', status: 503, times: 2 });
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${id}`)).status, 503);
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${id}`)).status, 503);
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${id}`)).status, 200);
      emu.faults.add({ route: 'cancel', kind: 'status', status: 500, code: 'InternalError' });
      const c = await api(emu, 'POST', `/api/v1/tasks/${id}/cancel`);
      assert.deepEqual([c.status, c.body.code], [500, 'InternalError']);
      emu.faults.add({ route: 'policy', kind: 'status', status: 502 });
      assert.equal((await api(emu, 'GET', `/api/v1/uploads?action=getPolicy&model=${MODEL}`)).status, 502);
      emu.faults.add({ route: 'upload', kind: 'status', status: 503 });
      const up = await fetch(`${emu.url}/__oss`, { method: 'POST', body: new FormData() });
      assert.equal(up.status, 503);
      assert.match(await up.text(), /<Code>ServiceUnavailable<\/Code>/);
      await waitTask(emu, id);
    });

    it('drop: the connection closes with no answer; phase "after" still creates the task', async () => {
      emu.faults.add({ route: 'task', kind: 'drop' });
      await assert.rejects(api(emu, 'GET', '/api/v1/tasks/x'));
      emu.clearRequests();
      emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
      await assert.rejects(api(emu, 'POST', CREATE_PATH, { body: body([{ type: 'first_frame', url: firstPng() }]) }));
      const creates = emu.requests().filter((r) => r.route === 'create');
      assert.equal(creates.length, 1);
      assert.equal(creates[0]!.fault, 'drop');
      const taskId = creates[0]!.taskId;
      assert.ok(taskId, 'the dropped create still made a task');
      assert.equal((await waitTask(emu, taskId)).last.output.task_status, 'SUCCEEDED');
    });

    it('slow: JSON answers delayed by delayMs; downloads throttled to bytesPerSecond', async () => {
      emu.faults.add({ route: 'task', kind: 'slow', delayMs: 400 });
      let t0 = Date.now();
      assert.equal((await api(emu, 'GET', '/api/v1/tasks/x')).status, 200);
      assert.ok(Date.now() - t0 >= 380, `took ${Date.now() - t0} ms`);
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      const url = (await waitTask(emu, id)).last.output.video_url as string;
      const size = Number((await fetch(url, { method: 'HEAD' })).headers.get('content-length'));
      emu.faults.add({ route: 'download', kind: 'slow', bytesPerSecond: Math.ceil(size / 0.6) });
      t0 = Date.now();
      const buf = await (await fetch(url)).arrayBuffer();
      assert.equal(buf.byteLength, size);
      assert.ok(Date.now() - t0 >= 450, `took ${Date.now() - t0} ms`);
    });

    it('truncate: the promised Content-Length is not delivered', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      const url = (await waitTask(emu, id)).last.output.video_url as string;
      emu.faults.add({ route: 'download', kind: 'truncate', afterBytes: 5000 });
      const r = await rawGet(url);
      assert.equal(r.status, 200);
      assert.ok(Number(r.headers['content-length']) > 5000);
      assert.equal(r.bytes, 5000);
      assert.ok(r.error, 'the body ended early');
      emu.faults.add({ route: 'task', kind: 'truncate' });
      await assert.rejects(api(emu, 'GET', `/api/v1/tasks/${id}`));
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${id}`)).status, 200);
    });

    it('outcome: the next task ends FAILED with the given code, or UNKNOWN', async () => {
      emu.faults.add({ route: 'outcome', kind: 'fail', code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' });
      const a = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      const fa = (await waitTask(emu, a)).last.output;
      assert.deepEqual([fa.task_status, fa.code, fa.message], ['FAILED', 'DataInspectionFailed', 'Input data may contain inappropriate content.']);
      emu.faults.add({ route: 'outcome', kind: 'unknown' });
      const b = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${b}`)).body.output.task_status, 'UNKNOWN');
    });

    it('the HTTP control plane arms faults and logs requests without keys', async () => {
      const bad = await fetch(`${emu.url}/__emulator/faults`, { method: 'POST', body: JSON.stringify([{ route: 'nowhere', kind: 'drop' }]) });
      assert.equal(bad.status, 400);
      const arm = await fetch(`${emu.url}/__emulator/faults`, {
        method: 'POST',
        body: JSON.stringify([{ route: 'create', kind: 'status', status: 500 }, { route: 'outcome', kind: 'fail' }]),
      });
      assert.equal(arm.status, 200);
      assert.equal(((await arm.json()) as Json).pending.length, 2);
      await fetch(`${emu.url}/__emulator/requests`, { method: 'DELETE' });
      const b = body([{ type: 'first_frame', url: firstPng() }]);
      assert.equal((await api(emu, 'POST', CREATE_PATH, { body: b })).status, 500);
      const id = await create(emu, b);
      assert.equal((await waitTask(emu, id)).last.output.code, 'InternalError.Algo');
      const log = ((await (await fetch(`${emu.url}/__emulator/requests`)).json()) as Json).requests as Json[];
      const creates = log.filter((r) => r.route === 'create');
      assert.equal(creates.length, 2);
      assert.equal(creates[0]!.status, 500);
      assert.equal(creates[1]!.status, 200);
      assert.equal(creates[1]!.authorization, true);
      assert.equal(creates[1]!.headers['x-dashscope-async'], 'enable');
      assert.match(creates[1]!.keySha256Prefix, /^[0-9a-f]{12}$/);
      assert.ok(!JSON.stringify(log).includes(KEY), 'the key itself is never logged');
      const state = (await (await fetch(`${emu.url}/__emulator/faults`)).json()) as Json;
      assert.equal(state.pending.length, 0);
    });
  });

  describe('result expiry', () => {
    it('the video URL answers 403 after 24 h', async () => {
      const id = await create(emu, body([{ type: 'first_frame', url: firstPng() }]));
      const url = (await waitTask(emu, id)).last.output.video_url as string;
      assert.equal((await fetch(url, { method: 'HEAD' })).status, 200);
      emu.clock.advance(TASK_TTL_MS + 60_000);
      const res = await fetch(url);
      assert.equal(res.status, 403);
      assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
      assert.equal((await api(emu, 'GET', `/api/v1/tasks/${id}`)).body.output.task_status, 'UNKNOWN');
    });
  });
});
