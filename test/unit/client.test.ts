// The client against the emulator over real HTTP on loopback, with faults injected by the emulator.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import {
  MODEL,
  WanAmbiguousCreateError,
  WanApiError,
  WanClient,
  WanConfigError,
  WanNetworkError,
  WanValidationError,
  checkCreateBody,
  explainError,
  findTasksCreatedBetween,
  isCompleteMp4,
  listAllTasks,
  taskCreatedAt,
  prepareRequest,
  type ClientEvent,
  type TaskResponse,
  type WanClientOptions,
} from '../../src/wan';
import { makeAlphaPng, makeInputSet, tempDir } from '../support/fixtures';

const KEY = 'sk-test-client';
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200 };
/** The outage policy with short waits, so a test can ride out many failures in a row. */
const FAST_OUTAGE = { baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 1500 };

describe('WanClient against the emulator', function () {
  let emu: RunningEmulator;
  let dir: string;
  let inputs: Awaited<ReturnType<typeof makeInputSet>>;
  let events: ClientEvent[];
  let client: WanClient;

  before(async () => {
    dir = await tempDir('client');
    inputs = await makeInputSet(dir);
    emu = await startEmulator({ pendingMs: 100, runningMs: 300, apiKeys: [KEY] });
  });
  after(async () => emu?.close());
  beforeEach(() => {
    events = [];
    emu.faults.clear();
    emu.clearRequests();
    const options: WanClientOptions = { baseUrl: emu.url, apiKey: KEY, retry: FAST_RETRY, onEvent: (e) => events.push(e) };
    client = new WanClient(Object.assign(options, { outage: FAST_OUTAGE }));
  });
  afterEach(async () => client.close());

  const creates = () => emu.requests().filter((r) => r.route === 'create');
  const firstFrameBody = async () => (await prepareRequest({ firstFrame: inputs.firstFrame, resolution: '720P', duration: 2 }, () => assert.fail('no upload expected'))).body;

  it('creates, polls to SUCCEEDED and downloads a playable H.264 MP4 of the estimated size', async () => {
    const created = await client.createTask(await firstFrameBody());
    assert.equal(created.output.task_status, 'PENDING');
    const seen: string[] = [];
    const task = await client.waitForTask(created.output.task_id, { intervalMs: 100, onUpdate: (t) => seen.push(t.output.task_status) });
    assert.equal(task.output.task_status, 'SUCCEEDED');
    assert.ok(seen.includes('RUNNING') || seen.includes('PENDING'), `statuses seen: ${seen.join(', ')}`);
    assert.deepEqual(task.usage && { d: task.usage.duration, sr: task.usage.SR, n: task.usage.video_count }, { d: 2, sr: 720, n: 1 });
    const dest = join(dir, 'out', 'first.mp4');
    if (task.output.task_status !== 'SUCCEEDED') return;
    const { bytes } = await client.downloadVideo(task.output.video_url, dest);
    assert.equal((await stat(dest)).size, bytes);
    const info = await inspectMedia(dest);
    assert.equal(info.video?.codec, 'h264');
    assert.deepEqual([info.video?.width, info.video?.height], [816, 1104]);
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 2) < 0.15, `duration ${info.durationSeconds}`);
    const download = emu.requests().find((r) => r.route === 'download');
    assert.equal(download?.authorization, false, 'the API key must not be sent to the video URL');
  });

  it('validates locally and sends nothing for an invalid body', async () => {
    await assert.rejects(
      checkCreateBody({ model: MODEL, input: { media: [{ type: 'last_frame', url: 'https://example.com/a.png' }] }, parameters: { duration: 99 } }).then((body) => client.createTask(body)),
      (e: unknown) => e instanceof WanValidationError && /not a valid combination/.test(e.message) && /parameters.duration/.test(e.message),
    );
    assert.equal(emu.requests().length, 0);
  });

  it('checks inline data: images before sending: size, alpha and a MIME type that lies', async () => {
    const dataUri = async (path: string, mime: string) => `data:${mime};base64,${(await readFile(path)).toString('base64')}`;
    const small = await makeAlphaPng(join(dir, 'small-alpha.png'), 100, 100);
    await assert.rejects(
      checkCreateBody({ model: MODEL, input: { media: [{ type: 'first_frame', url: await dataUri(small, 'image/png') }] } }).then((body) => client.createTask(body)),
      (e: unknown) =>
        e instanceof WanValidationError &&
        e.issues.some((i) => i.field === 'input.media[first_frame]' && /100x100 px/.test(i.message)) &&
        e.issues.some((i) => /alpha/.test(i.message)),
    );
    await assert.rejects(
      checkCreateBody({ model: MODEL, input: { media: [{ type: 'first_frame', url: await dataUri(inputs.firstFrame, 'image/jpeg') }] } }).then((body) => client.createTask(body)),
      (e: unknown) => e instanceof WanValidationError && /says image\/jpeg but holds image\/png/.test(e.message),
    );
    assert.equal(emu.requests().length, 0);
  });

  it('refuses a key with a line break before sending anything, without echoing it', () => {
    assert.throws(
      () => new WanClient({ baseUrl: emu.url, apiKey: 'sk-abc123\r\nX-Injected: 1' }),
      (e: unknown) => e instanceof WanConfigError && e.code === 'InvalidApiKeyFormat' && !/abc123|Injected/.test(e.message),
    );
    assert.throws(() => new WanClient({ baseUrl: emu.url, apiKey: '  ' }), (e: unknown) => e instanceof WanConfigError && e.code === 'NoApiKey');
  });

  it('maps a refused key to InvalidApiKey', async () => {
    const bad = new WanClient({ baseUrl: emu.url, apiKey: 'sk-wrong', retry: FAST_RETRY });
    try {
      await assert.rejects(bad.getTask('whatever'), (e: unknown) => e instanceof WanApiError && e.httpStatus === 401 && e.code === 'InvalidApiKey');
    } finally {
      await bad.close();
    }
  });

  it('never repeats a create: a 4xx is a refusal, a timeout or 5xx an unknown outcome', async () => {
    const body = await firstFrameBody();
    for (const [status, ambiguous] of [[400, false], [403, false], [408, true], [500, true], [502, true], [504, true]] as const) {
      emu.clearRequests();
      emu.faults.add({ route: 'create', kind: 'status', status, retryAfterSeconds: 0 });
      await assert.rejects(client.createTask(body), (e: unknown) =>
        ambiguous
          ? e instanceof WanAmbiguousCreateError && e.cause instanceof WanApiError && e.cause.httpStatus === status
          : e instanceof WanApiError && e.httpStatus === status,
      );
      assert.equal(creates().length, 1, `create sent once for ${status}`);
    }
  });

  it('retries a create refused with 429 throttling after its Retry-After: no task exists yet', async () => {
    const body = await firstFrameBody();
    emu.faults.add({ route: 'create', kind: 'status', status: 429, code: 'Throttling.RateQuota', retryAfterSeconds: 1 });
    const started = Date.now();
    const created = await client.createTask(body);
    assert.equal(created.output.task_status, 'PENDING');
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.deepEqual(creates().map((r) => r.status), [429, 200]);
  });

  it('retries a throttled create at most twice, never past a 60 s Retry-After, and not for a bill', async () => {
    const body = await firstFrameBody();
    const cases = [
      [{ code: 'Throttling.AllocationQuota', retryAfterSeconds: 0, times: 3 }, 3],
      [{ code: 'Throttling.RateQuota', retryAfterSeconds: 61 }, 1],
      [{ code: 'PrepaidBillOverdue', retryAfterSeconds: 0 }, 1],
    ] as const;
    for (const [fault, sends] of cases) {
      emu.clearRequests();
      emu.faults.add({ route: 'create', kind: 'status', status: 429, message: 'refused', ...fault });
      await assert.rejects(client.createTask(body), (e: unknown) => e instanceof WanApiError && e.httpStatus === 429 && e.code === fault.code);
      assert.equal(creates().length, sends, fault.code);
      emu.faults.clear();
    }
  });

  it('reports a failed TLS handshake as never sent, without retrying it', async () => {
    const tls = new WanClient({ baseUrl: emu.url.replace('http:', 'https:'), apiKey: KEY, retry: FAST_RETRY, onEvent: (e) => events.push(e) });
    try {
      await assert.rejects(
        tls.createTask(await firstFrameBody()),
        (e: unknown) => e instanceof WanNetworkError && !e.mayHaveReachedService && !e.retryable && /ERR_SSL/.test(e.message),
      );
      assert.equal(events.length, 0, 'no retry');
    } finally {
      await tls.close();
    }
  });

  it('reports a create whose answer was lost as ambiguous, without sending it twice', async () => {
    emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
    await assert.rejects(client.createTask(await firstFrameBody()), (e: unknown) => e instanceof WanAmbiguousCreateError && /not retried/.test(e.message));
    assert.equal(creates().length, 1);
    assert.ok(creates()[0]?.taskId, 'the service did create a task before the connection dropped');
  });

  it('retries a create that never reached a server (connection refused)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const nowhere = new WanClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, retry: { ...FAST_RETRY, maxAttempts: 3 }, onEvent: (e) => events.push(e) });
    try {
      await assert.rejects(nowhere.createTask(await firstFrameBody()), (e: unknown) => e instanceof WanNetworkError && !e.mayHaveReachedService);
      assert.equal(events.filter((e) => e.kind === 'retry').length, 2);
    } finally {
      await nowhere.close();
    }
  });

  it('polls through 429 (honouring Retry-After), 503 and a dropped connection', async () => {
    const created = await client.createTask(await firstFrameBody());
    emu.faults.add([
      { route: 'task', kind: 'status', status: 429, retryAfterSeconds: 1 },
      { route: 'task', kind: 'status', status: 503 },
      { route: 'task', kind: 'drop' },
    ]);
    const started = Date.now();
    const task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    assert.equal(task.output.task_status, 'SUCCEEDED');
    const retries = events.filter((e) => e.kind === 'retry');
    assert.equal(retries.length, 3, JSON.stringify(retries));
    assert.equal(retries[0]?.kind === 'retry' && retries[0].delayMs, 1000);
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
  });

  it('rides out six 500s in a row, a 404 on the task URL and a 429 with a very long Retry-After', async () => {
    const created = await client.createTask(await firstFrameBody());
    emu.faults.add([
      { route: 'task', kind: 'status', status: 500, times: 6 },
      { route: 'task', kind: 'status', status: 404, code: 'NotFound', message: 'route not found' },
      { route: 'task', kind: 'status', status: 429, retryAfterSeconds: 3600 },
    ]);
    const task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    assert.equal(task.output.task_status, 'SUCCEEDED');
    const retries = events.filter((e): e is Extract<ClientEvent, { kind: 'retry' }> => e.kind === 'retry');
    assert.equal(retries.length, 8, JSON.stringify(retries));
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3, 4, 5, 6, 7, 8], 'one outage: failures counted in a row');
    assert.equal(retries.at(-1)?.delayMs, FAST_OUTAGE.maxRetryAfterMs, 'an hour-long Retry-After is cut to the cap, then polling goes on');
  });

  it('stops polling at once on a failure another try cannot fix, so the caller can report the task', async () => {
    const created = await client.createTask(await firstFrameBody());
    emu.clearRequests();
    emu.faults.add({ route: 'task', kind: 'status', status: 403, code: 'AccessDenied', message: 'Access denied.' });
    await assert.rejects(client.waitForTask(created.output.task_id, { intervalMs: 100 }), (e: unknown) => e instanceof WanApiError && e.httpStatus === 403);
    assert.equal(emu.requests().filter((r) => r.route === 'task').length, 1);
  });

  async function succeeded(): Promise<Extract<TaskResponse['output'], { task_status: 'SUCCEEDED' }>> {
    const created = await client.createTask(await firstFrameBody());
    const task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    if (task.output.task_status !== 'SUCCEEDED') assert.fail(`task ended ${task.output.task_status}`);
    return task.output;
  }

  it('resumes a truncated download with Range and gets the same bytes', async () => {
    const output = await succeeded();
    const whole = join(dir, 'whole.mp4');
    await client.downloadVideo(output.video_url, whole);
    emu.clearRequests();
    emu.faults.add({ route: 'download', kind: 'truncate', afterBytes: 5000 });
    const resumed = join(dir, 'resumed.mp4');
    await client.downloadVideo(output.video_url, resumed);
    assert.deepEqual(await readFile(resumed), await readFile(whole));
    const ranges = emu.requests().filter((r) => r.route === 'download').map((r) => r.headers.range);
    assert.deepEqual(ranges, [undefined, 'bytes=5000-']);
  });

  it('survives a slow download and a 5xx on the video URL', async () => {
    const output = await succeeded();
    emu.faults.add([
      { route: 'download', kind: 'status', status: 502 },
      { route: 'download', kind: 'slow', bytesPerSecond: 400_000 },
    ]);
    const dest = join(dir, 'slow.mp4');
    await client.downloadVideo(output.video_url, dest);
    assert.equal((await inspectMedia(dest)).video?.codec, 'h264');
  });

  it('keeps a complete video already at the destination, and replaces a truncated one', async () => {
    const output = await succeeded();
    const dest = join(dir, 'kept', 'v.mp4');
    const first = await client.downloadVideo(output.video_url, dest);
    assert.deepEqual([first.kept, first.expectedBytes], [false, first.bytes]);
    const again = await client.downloadVideo(output.video_url, dest);
    assert.deepEqual([again.kept, again.bytes], [true, first.bytes]);
    const whole = await readFile(dest);
    await writeFile(dest, whole.subarray(0, whole.length - 1000));
    assert.equal(await isCompleteMp4(dest), false, 'a cut file is not a complete MP4');
    const replaced = await client.downloadVideo(output.video_url, dest);
    assert.equal(replaced.kept, false);
    assert.ok((await readFile(dest)).equals(whole));
    assert.deepEqual((await readdir(join(dir, 'kept'))).sort(), ['v.mp4']);
  });

  it('says when the host advertised no length, and still refuses a video cut short', async () => {
    const output = await succeeded();
    const whole = Buffer.from(await (await fetch(output.video_url)).arrayBuffer());
    let cut = false;
    // Chunked answers carry no Content-Length: completeness then rests on the MP4 structure.
    const host = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end(cut ? whole.subarray(0, whole.length - 4096) : whole);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(host.address() as { port: number }).port}/v.mp4`;
      const saved = await client.downloadVideo(url, join(dir, 'nolength', 'v.mp4'));
      assert.deepEqual([saved.bytes, saved.expectedBytes, saved.kept], [whole.length, undefined, false]);
      cut = true;
      await assert.rejects(client.downloadVideo(url, join(dir, 'nolength', 'cut.mp4')), (e: unknown) => e instanceof WanNetworkError && e.errorCode === 'NOT_MP4');
      assert.deepEqual(await readdir(join(dir, 'nolength')), ['v.mp4']);
    } finally {
      host.close();
    }
  });

  it('follows a redirect on the video URL without sending the key along', async () => {
    const output = await succeeded();
    const hops: (string | undefined)[] = [];
    const redirector = createHttpServer((req, res) => {
      hops.push(req.headers.authorization);
      res.writeHead(302, { location: output.video_url }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const dest = join(dir, 'redirected.mp4');
      await client.downloadVideo(`http://127.0.0.1:${(redirector.address() as { port: number }).port}/v.mp4`, dest);
      assert.equal((await inspectMedia(dest)).video?.codec, 'h264');
      assert.deepEqual(hops, [undefined]);
    } finally {
      redirector.close();
    }
  });

  it('answers UNKNOWN and an expired link after 24 hours', async () => {
    const output = await succeeded();
    emu.clock.advance(24 * 60 * 60 * 1000 + 60_000);
    const task = await client.getTask(output.task_id);
    assert.equal(task.output.task_status, 'UNKNOWN');
    await assert.rejects(client.downloadVideo(output.video_url, join(dir, 'late.mp4')), (e: unknown) => e instanceof WanApiError && e.code === 'VideoUrlExpired');
  });

  it('reports FAILED and UNKNOWN task outcomes', async () => {
    emu.faults.add({ route: 'outcome', kind: 'fail', code: 'InvalidParameter', message: 'The size is not match' });
    let created = await client.createTask(await firstFrameBody());
    let task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    assert.equal(task.output.task_status, 'FAILED');
    if (task.output.task_status === 'FAILED') assert.equal(task.output.code, 'InvalidParameter');
    emu.faults.add({ route: 'outcome', kind: 'unknown' });
    created = await client.createTask(await firstFrameBody());
    task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    assert.equal(task.output.task_status, 'UNKNOWN');
  });

  it('cancels a PENDING task, and refuses to cancel a finished one', async () => {
    const slow = await startEmulator({ pendingMs: 60_000, runningMs: 100, apiKeys: [KEY] });
    const c = new WanClient({ baseUrl: slow.url, apiKey: KEY, retry: FAST_RETRY });
    try {
      const created = await c.createTask(await firstFrameBody());
      await c.cancelTask(created.output.task_id);
      assert.equal((await c.getTask(created.output.task_id)).output.task_status, 'CANCELED');
    } finally {
      await c.close();
      await slow.close();
    }
    const done = await succeeded();
    await assert.rejects(client.cancelTask(done.task_id), (e: unknown) => e instanceof WanApiError && e.code === 'UnsupportedOperation');
  });

  it('uploads local audio and video to oss:// and creates with the resolve header', async () => {
    emu.faults.add({ route: 'upload', kind: 'status', status: 503 });
    const prepared = await prepareRequest(
      { firstClip: inputs.clip, lastFrame: inputs.lastFrame, resolution: '720P', duration: 4 },
      (path) => client.uploadFile(path),
    );
    const clip = prepared.body.input.media.find((m) => m.type === 'first_clip');
    assert.match(clip?.url ?? '', /^oss:\/\//);
    assert.deepEqual(prepared.outputSize, { width: 816, height: 1104 });
    const created = await client.createTask(prepared.body);
    assert.equal(creates().at(-1)?.headers['x-dashscope-ossresourceresolve'], 'enable');
    const task = await client.waitForTask(created.output.task_id, { intervalMs: 100 });
    assert.equal(task.output.task_status, 'SUCCEEDED');
    assert.equal(task.usage?.output_video_duration, 4);
  });

  it('retries an upload whose policy expired on the way with a fresh policy', async () => {
    // The storage host holds the upload while the emulator's clock passes the policy's 300 s.
    emu.faults.add({ route: 'upload', kind: 'slow', delayMs: 1500 });
    const uploading = client.uploadFile(inputs.audio);
    while (!emu.requests().some((r) => r.route === 'upload')) await new Promise((r) => setTimeout(r, 10));
    emu.clock.advance(301_000);
    assert.match(await uploading, /^oss:\/\//);
    const log = emu.requests();
    assert.deepEqual(log.filter((r) => r.route === 'upload').map((r) => r.status), [403, 200]);
    assert.equal(log.filter((r) => r.route === 'policy').length, 2, 'a new policy for the second try');
  });

  it('gives up after a few fresh policies, and explains an expired policy as such, not as a key problem', async () => {
    emu.faults.add({ route: 'upload', kind: 'status', status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.', times: 10 });
    let failure: unknown;
    await client.uploadFile(inputs.audio).catch((e: unknown) => (failure = e));
    assert.ok(failure instanceof WanApiError && failure.httpStatus === 403, String(failure));
    assert.equal(emu.requests().filter((r) => r.route === 'policy').length, 3, 'the first policy and two fresh ones');
    const explained = explainError(failure);
    assert.equal(explained.code, 'UploadPolicyExpired');
    assert.match(explained.hint ?? '', /about 5 minutes/);
    assert.doesNotMatch(explained.hint ?? '', /access|permission/i);
  });

  describe('task list', () => {
    let lst: RunningEmulator;
    let c: WanClient;
    const ids: string[] = [];
    before(async () => {
      // Tasks stay PENDING (no renders); a minute of emulated time between creates.
      lst = await startEmulator({ pendingMs: 2 * 60 * 60_000, runningMs: 100, apiKeys: [KEY] });
      c = new WanClient({ baseUrl: lst.url, apiKey: KEY, retry: FAST_RETRY });
      for (let i = 0; i < 7; i++) {
        ids.push((await c.createTask(await firstFrameBody())).output.task_id);
        lst.clock.advance(60_000);
      }
    });
    after(async () => {
      await c?.close();
      await lst?.close();
    });
    const created = async (i: number) => {
      const { tasks } = await listAllTasks(c, {});
      return taskCreatedAt(tasks.find((t) => t.task_id === ids[i])!)!;
    };

    it('lists one page, and every page within a bound', async () => {
      const page = await c.listTasks({ pageNo: 2, pageSize: 3 });
      assert.deepEqual([page.total, page.total_page, page.page_no, page.page_size], [7, 3, 2, 3]);
      assert.deepEqual(page.data.map((t) => t.task_id), [ids[3], ids[2], ids[1]]);
      const all = await listAllTasks(c, { modelName: MODEL, status: 'PENDING' }, { pageSize: 2 });
      assert.deepEqual(all.tasks.map((t) => t.task_id), [...ids].reverse());
      assert.deepEqual([all.total, all.complete], [7, true]);
      const bounded = await listAllTasks(c, {}, { pageSize: 2, maxPages: 2 });
      assert.deepEqual([bounded.tasks.length, bounded.total, bounded.complete], [4, 7, false]);
      const lists = lst.requests().filter((r) => r.route === 'list');
      assert.ok(lists.every((r) => r.authorization));
    });

    it('finds the tasks created in a window, oldest first, by time to the millisecond', async () => {
      const [t2, t4] = [await created(2), await created(4)];
      const found = await findTasksCreatedBetween(c, new Date(t2.getTime() - 1000), new Date(t4.getTime() + 1000));
      assert.deepEqual(found.map((t) => t.task_id), [ids[2], ids[3], ids[4]]);
      const none = await findTasksCreatedBetween(c, new Date(t4.getTime() + 1000), new Date(t4.getTime() + 30_000));
      assert.deepEqual(none, []);
      const otherModel = await findTasksCreatedBetween(c, t2, t4, { model: 'wan2.2-i2v-plus' });
      assert.deepEqual(otherModel, []);
    });
  });

  it('refuses a first clip that leaves no room for a continuation, before uploading', async () => {
    await assert.rejects(
      prepareRequest({ firstClip: inputs.clip, duration: 3 }, () => assert.fail('must not upload')),
      (e: unknown) => e instanceof WanValidationError && e.issues.some((i) => i.field === 'parameters.duration' && /longer than the clip/.test(i.message)),
    );
  });
});
