// The task engine against the emulator over real HTTP, with real files: a request walks from queued to a
// saved video and its record; a restart mid-task resumes without a second create; the local queue keeps
// to the account's limits; throttled creates wait; outages of the poll are ridden out.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { TaskEngine, type EngineDeps, type Outage } from '../../src/tasks/engine';
import type { TaskRecord, TaskState } from '../../src/tasks/record';
import { TaskStore } from '../../src/tasks/store';
import { WanClient, WanValidationError, checkCreateBody, fixedSchedule } from '../../src/wan';
import { createServer } from 'node:net';
import type { EndpointRef } from '../../src/tasks/record';
import { makeAudio, makeImage, tempDir } from '../support/fixtures';
import { until as pollUntil } from '../support/waiting';

const KEY = 'sk-engine-test-key';

interface Harness {
  store: TaskStore;
  engine: TaskEngine;
  ended: TaskRecord[];
  outages: Outage[];
  states: Map<string, TaskState[]>;
}

describe('task engine (against the emulator)', function () {
  this.timeout(60_000);
  let emu: RunningEmulator;
  let dir: string;
  let image: string;
  let out: string;
  let running: Harness[] = [];

  before(async () => {
    dir = await tempDir('engine');
    image = await makeImage(join(dir, 'cat.png'), 320, 240);
    emu = await startEmulator({ pendingMs: 300, runningMs: 600, apiKeys: [KEY] });
  });
  after(async () => emu?.close());
  beforeEach(async () => {
    out = await tempDir('engine-out');
    emu.clearRequests();
  });
  afterEach(async () => {
    await Promise.all(running.map((h) => h.engine.stop()));
    running = [];
  });

  function harness(file: string, over: Partial<EngineDeps> = {}): Harness {
    const store = new TaskStore({ file, leaseMs: 3000 });
    const ended: TaskRecord[] = [];
    const outages: Outage[] = [];
    const states = new Map<string, TaskState[]>();
    store.onDidChange(() => {
      for (const r of store.all()) {
        const seen = states.get(r.id) ?? [];
        if (seen[seen.length - 1] !== r.state) seen.push(r.state);
        states.set(r.id, seen);
      }
    });
    const engine = new TaskEngine(
      {
        store,
        connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: { kind: 'emulator', baseUrl: emu.url } }),
        schedule: fixedSchedule(150),
        log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
        ...over,
      },
      { ended: (r) => ended.push(r), unreachable: (o) => outages.push(o) },
    );
    const h = { store, engine, ended, outages, states };
    running.push(h);
    return h;
  }

  const endpoint = () => ({ kind: 'emulator' as const, baseUrl: emu.url });
  const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 30_000) => pollUntil(what, probe, ms, 50);

  // Creates that made a task (a 429 from the emulator's own rate limit makes none).
  const creates = () => emu.requests().filter((r) => r.route === 'create' && r.status === 200).length;


  it('walks a request from queued to a saved MP4 with its record beside it', async () => {
    const h = harness(join(dir, 'walk.json'));
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'The cat looks up', duration: 2, resolution: '720P', seed: 42 }, { endpoint: endpoint(), outputFolder: out });
    assert.equal(r.state, 'queued');
    const saved = await until('the save and its record', () => h.store.get(r.id)?.save?.state === 'saved' && !h.store.get(r.id)?.save?.pendingRecord && h.store.get(r.id));
    assert.deepEqual(h.states.get(r.id), ['queued', 'creating', 'pending', 'running', 'succeeded']);
    assert.equal(creates(), 1);
    const files = (await readdir(out)).sort();
    assert.equal(files.length, 2);
    assert.match(files[1]!, /^\d{4}-\d\d-\d\d_\d{4}_the-cat-looks-up_[A-Za-z0-9]{1,8}\.mp4$/);
    assert.equal(saved.save?.file, join(out, files[1]!));
    const video = await readFile(join(out, files[1]!));
    assert.equal(video.length, saved.save?.bytes);
    assert.equal(video.toString('latin1', 4, 8), 'ftyp');
    const sidecar = JSON.parse(await readFile(join(out, files[0]!), 'utf8'));
    assert.equal(sidecar.task_id, saved.taskId);
    assert.equal(sidecar.prompt, 'The cat looks up');
    assert.equal(sidecar.seed, 42);
    assert.equal(sidecar.media.first_frame, image);
    assert.equal(sidecar.rehearsal, true);
    assert.ok(!JSON.stringify(sidecar).includes(KEY), 'the key never reaches the record');
    assert.ok(!(await readFile(join(dir, 'walk.json'), 'utf8')).includes(KEY), 'nor the task list');
    await until('the announcement', () => h.ended.length > 0);
    await h.engine.stop();
    assert.equal(h.ended.length, 1, 'one announcement');
    assert.equal(h.ended[0]?.save?.state, 'saved');
  });

  it('refuses a bad request before anything is queued or sent', async () => {
    const h = harness(join(dir, 'bad.json'));
    await h.store.load();
    await assert.rejects(
      h.engine.submit({ firstFrame: image, duration: 16 }, { endpoint: endpoint(), outputFolder: out }),
      (e: unknown) => e instanceof WanValidationError && /parameters\.duration/.test(e.message),
    );
    await assert.rejects(h.engine.submit({ firstFrame: 'data:image/png;base64,AAAA' }, { endpoint: endpoint() }), /inline data: URIs are not stored/);
    assert.equal(h.store.all().length, 0);
    assert.equal(emu.requests().length, 0);
  });

  it('resumes a running task after a restart without creating it again', async () => {
    const file = join(dir, 'restart.json');
    const first = harness(file);
    await first.store.load();
    first.engine.start();
    const r = await first.engine.submit({ firstFrame: image, prompt: 'restart', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the task to run', () => ['pending', 'running'].includes(first.store.get(r.id)?.state ?? '') && first.store.get(r.id)?.taskId);
    await first.engine.stop(); // the window closes mid-task
    running = running.filter((h) => h !== first);
    const second = harness(file); // a new window: a new store owner
    await second.store.load();
    second.engine.start();
    const saved = await until('the save after restart', () => second.store.get(r.id)?.save?.state === 'saved' && second.store.get(r.id));
    assert.equal(creates(), 1, 'exactly one create');
    assert.equal(saved.taskId, first.store.get(r.id)?.taskId);
  });

  it('runs five at once and queues the sixth until a slot frees', async () => {
    const h = harness(join(dir, 'six.json'), { schedule: fixedSchedule(100) });
    await h.store.load();
    let maxActive = 0;
    h.store.onDidChange(() => {
      const active = h.store.all().filter((t) => ['creating', 'pending', 'running'].includes(t.state)).length;
      maxActive = Math.max(maxActive, active);
    });
    const six: TaskRecord[] = [];
    for (let i = 0; i < 6; i++) six.push(await h.engine.submit({ firstFrame: image, prompt: `batch ${i}`, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out }));
    h.engine.start();
    await until('five to be sent', () => h.store.all().filter((t) => t.taskId).length === 5);
    assert.equal(h.store.get(six[5]!.id)?.state, 'queued', 'the sixth waits locally');
    await until('all six saved', () => six.every((t) => h.store.get(t.id)?.save?.state === 'saved'), 60_000);
    assert.equal(maxActive, 5);
    assert.equal(creates(), 6);
  });

  it('puts a throttled create back in the queue and sends it later', async () => {
    emu.faults.add({ route: 'create', kind: 'status', status: 429, code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded', retryAfterSeconds: 0, times: 3 });
    const h = harness(join(dir, 'throttle.json'), { random: () => 0 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the throttled request to be queued again', () => h.store.get(r.id)?.state === 'queued' && h.store.get(r.id)?.code === 'Throttling.RateQuota');
    const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id), 40_000);
    assert.ok(saved.taskId);
    assert.equal(emu.requests().filter((q) => q.route === 'create' && q.status === 200).length, 1, 'one task made');
  });

  it('rides out a poll outage: the paid task is followed until it ends', async () => {
    const h = harness(join(dir, 'outage.json'), { random: () => 0 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the task ID', () => h.store.get(r.id)?.taskId);
    emu.faults.add({ route: 'task', kind: 'status', status: 500, times: 14 });
    await until('a recorded poll failure', () => (h.store.get(r.id)?.pollFailures ?? 0) > 0);
    const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id), 50_000);
    assert.equal(saved.pollFailures, 0);
    assert.equal(creates(), 1);
  });

  it('resolves an interrupted create through the task list, never sending it again', async () => {
    emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
    const h = harness(join(dir, 'interrupted.json'), { lookupWindowMs: 2000 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'lost answer', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id));
    assert.deepEqual(h.states.get(r.id)?.slice(0, 3), ['queued', 'creating', 'pending'], 'adopted from the list, not re-created');
    assert.equal(emu.requests().filter((q) => q.route === 'create').length, 1, 'one create request, ever');
    assert.ok(emu.requests().some((q) => q.route === 'list'), 'looked up in the task list');
    assert.equal(saved.taskId, emu.requests().find((q) => q.route === 'create')?.taskId ?? saved.taskId);
  });

  it('follows the task of a lost create answer that runs longer than the lookup window, never calling it unresolved', async () => {
    // The service echoes the prompt only once the task succeeded; this one runs 4 s against a 1 s window.
    const slow = await startEmulator({ pendingMs: 200, runningMs: 4000, apiKeys: [KEY] });
    try {
      slow.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
      const h = harness(join(dir, 'long-lost.json'), {
        lookupWindowMs: 1000,
        connect: async () => ({ client: new WanClient({ baseUrl: slow.url, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: { kind: 'emulator', baseUrl: slow.url } }),
      });
      await h.store.load();
      h.engine.start();
      const r = await h.engine.submit({ firstFrame: image, prompt: 'on its way', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
      const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id));
      assert.ok(!(h.states.get(r.id) ?? []).includes('unresolved'), `never unresolved: ${h.states.get(r.id)?.join(' → ')}`);
      assert.equal(saved.taskId, slow.requests().find((q) => q.route === 'create')?.taskId);
      assert.equal(slow.requests().filter((q) => q.route === 'create').length, 1, 'one create request, ever');
    } finally {
      await slow.close();
    }
  });

  it('keeps two lost creates of one prompt on their own tasks, told apart by the usage their tasks report', async () => {
    const other = await makeImage(join(dir, 'other.png'), 240, 320);
    const emu2 = await startEmulator({ pendingMs: 200, runningMs: 1500, apiKeys: [KEY] });
    try {
      emu2.faults.add({ route: 'create', kind: 'drop', phase: 'after', times: 2 });
      const h = harness(join(dir, 'two-lost.json'), {
        lookupWindowMs: 1000,
        connect: async () => ({ client: new WanClient({ baseUrl: emu2.url, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: { kind: 'emulator', baseUrl: emu2.url } }),
      });
      await h.store.load();
      h.engine.start();
      const [a, b] = await Promise.all([
        h.engine.submit({ firstFrame: image, prompt: 'same words', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out }),
        h.engine.submit({ firstFrame: other, prompt: 'same words', duration: 3, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out }),
      ]);
      const saved = await until('both saved', () => {
        const rs = [h.store.get(a.id), h.store.get(b.id)];
        return rs.every((r) => r?.save?.state === 'saved' && !r.save.pendingRecord) && (rs as TaskRecord[]);
      });
      assert.equal(emu2.requests().filter((q) => q.route === 'create').length, 2, 'no create sent again');
      assert.notEqual(saved[0]!.taskId, saved[1]!.taskId);
      for (const r of saved) assert.equal(r.usage?.duration, r.request.duration, `${r.request.firstFrame} followed a task of its own duration`);
      for (const r of saved) {
        // The record beside the video names the input the video was made from: landscape cat, portrait other.
        const sidecar = JSON.parse(await readFile(r.save!.file!.replace(/\.mp4$/, '.json'), 'utf8'));
        const video = (await inspectMedia(r.save!.file!)).video!;
        assert.equal(video.width > video.height, sidecar.media.first_frame === image, `${sidecar.media.first_frame}: ${video.width}x${video.height}`);
        assert.ok(Math.abs(((await inspectMedia(r.save!.file!)).durationSeconds ?? 0) - sidecar.parameters.duration) < 0.2);
      }
    } finally {
      await emu2.close();
    }
  });

  it('calls a create that left no task unresolved, and creates again only when the user says so', async () => {
    emu.faults.add({ route: 'create', kind: 'drop', phase: 'before' });
    const h = harness(join(dir, 'unresolved.json'), { lookupWindowMs: 1500 });
    await h.store.load();
    h.engine.start();
    // The account made other tasks in the same minute (earlier tests): none with this prompt.
    const r = await h.engine.submit({ firstFrame: image, prompt: 'never arrived', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const lost = await until('unresolved', () => h.store.get(r.id)?.state === 'unresolved' && h.store.get(r.id));
    assert.match(lost.message ?? '', /may not have been created/);
    assert.equal(creates(), 0);
    await h.engine.lookAgain(r.id);
    await until('unresolved again', () => h.store.get(r.id)?.state === 'unresolved' && (h.states.get(r.id) ?? []).filter((s) => s === 'unresolved').length === 2);
    assert.equal(emu.requests().filter((q) => q.route === 'create').length, 1, 'looking again sends nothing');
    await h.engine.createAgain(r.id);
    await until('the save', () => h.store.get(r.id)?.save?.state === 'saved');
    assert.equal(creates(), 1);
  });

  it('adds the account’s recent tasks from the task list and saves them', async () => {
    const client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
    const body = { model: 'wan2.7-i2v-2026-04-25', input: { prompt: 'made elsewhere', media: [{ type: 'first_frame', url: `data:image/png;base64,${(await readFile(image)).toString('base64')}` }] }, parameters: { duration: 2, resolution: '720P' } };
    const made = await client.createTask(await checkCreateBody(body));
    await client.close();
    const h = harness(join(dir, 'sync.json'));
    await h.store.load();
    h.engine.start();
    const added = await h.engine.syncFromAccount({ outputFolder: out });
    // The account also holds the earlier tests' tasks: every one is added once.
    assert.ok(added.some((a) => a.taskId === made.output.task_id));
    assert.equal(new Set(added.map((a) => a.taskId)).size, added.length);
    assert.deepEqual(await h.engine.syncFromAccount({ outputFolder: out }), [], 'nothing twice');
    await until('the save and its record', () => h.store.byTaskId(made.output.task_id)?.save?.state === 'saved' && !h.store.byTaskId(made.output.task_id)?.save?.pendingRecord);
    const sidecar = (await readdir(out)).find((f) => f.endsWith('.json') && f.includes('made-elsewhere'));
    assert.ok(sidecar, 'saved under its prompt, with its record');
  });

  it('never spins when a candidate of the lookup cannot be checked', async () => {
    emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
    const h = harness(join(dir, 'spin.json'), { lookupWindowMs: 400 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'unreachable', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the ambiguous create', () => h.store.get(r.id)?.state === 'creating' && emu.requests().some((q) => q.route === 'create'));
    emu.faults.add({ route: 'task', kind: 'status', status: 403, code: 'AccessDenied', message: 'denied', times: 1000 });
    await new Promise((done) => setTimeout(done, 2500));
    const queries = emu.requests().filter((q) => q.route === 'task' || q.route === 'list').length;
    assert.ok(queries >= 1 && queries <= 6, `lookups in 2.5 s: ${queries}`);
    assert.equal(h.store.get(r.id)?.state, 'creating', 'still waiting to be found, not given up or re-sent');
    emu.faults.clear();
  });

  it('leaves a task made around an interrupted create to that create’s lookup when syncing', async () => {
    emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
    const h = harness(join(dir, 'sync-interrupted.json'), { lookupWindowMs: 60_000 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'mine, interrupted', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the ambiguous create', () => h.store.get(r.id)?.state === 'creating' && emu.requests().some((q) => q.route === 'create'));
    const made = emu.requests().find((q) => q.route === 'create')?.taskId;
    assert.ok(made);
    const added = await h.engine.syncFromAccount({ outputFolder: out });
    assert.ok(!added.some((a) => a.taskId === made), 'not adopted as a second record');
    assert.equal(h.store.all().filter((t) => t.taskId === made).length, 0);
  });

  it('retries a result link refused long before it expires, instead of calling it expired', async () => {
    const h = harness(join(dir, 'early403.json'));
    await h.store.load();
    h.engine.start();
    emu.faults.add({ route: 'download', kind: 'status', status: 403, times: 1 });
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id), 30_000);
    assert.equal(saved.save?.attempts, 2);
  });

  it('announces the video once a Retry Download of a failed save succeeds', async () => {
    const h = harness(join(dir, 'retry-save.json'));
    await h.store.load();
    h.engine.start();
    emu.faults.add({ route: 'download', kind: 'status', status: 400, code: 'BadRequest', message: 'refused for now', times: 1 });
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the failed save announced', () => h.ended.some((e) => e.id === r.id && e.save?.state === 'failed'));
    await h.engine.retrySave(r.id);
    const last = await until('the saved video announced', () => h.ended.find((e) => e.id === r.id && e.save?.state === 'saved'));
    assert.ok(last.save?.file);
    assert.deepEqual(h.ended.filter((e) => e.id === r.id).map((e) => e.save?.state), ['failed', 'saved']);
  });

  it('keeps a request canceled during its upload canceled when the upload then fails', async () => {
    const audio = await makeAudio(join(dir, 'voice.mp3'), 3);
    emu.faults.add([
      { route: 'policy', kind: 'slow', delayMs: 1500 },
      { route: 'upload', kind: 'status', status: 503, times: 20 },
    ]);
    const h = harness(join(dir, 'cancel-upload.json'));
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, drivingAudio: audio, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the upload to start', () => emu.requests().some((q) => q.route === 'policy'));
    assert.match(h.store.get(r.id)?.message ?? '', /uploading voice\.mp3/, 'the waiting request says what it is doing');
    assert.equal((await h.engine.cancel(r.id))?.state, 'canceled');
    await until('the upload to give up', () => emu.requests().filter((q) => q.route === 'upload').length >= 6, 30_000);
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(h.store.get(r.id)?.state, 'canceled');
    assert.equal(emu.requests().filter((q) => q.route === 'create').length, 0, 'nothing created');
  });

  it('cancels a pending task on the service and a queued one locally', async () => {
    const slow = await startEmulator({ pendingMs: 60_000, runningMs: 600, apiKeys: [KEY] });
    try {
      const h = harness(join(dir, 'cancel.json'), {
        connect: async () => ({ client: new WanClient({ baseUrl: slow.url, apiKey: KEY }), endpoint: { kind: 'emulator', baseUrl: slow.url } }),
      });
      await h.store.load();
      const queued = await h.engine.submit({ firstFrame: image, duration: 2 }, { endpoint: endpoint(), outputFolder: out });
      assert.equal((await h.engine.cancel(queued.id))?.state, 'canceled');
      h.engine.start();
      const r = await h.engine.submit({ firstFrame: image, duration: 2 }, { endpoint: endpoint(), outputFolder: out });
      await until('pending', () => h.store.get(r.id)?.state === 'pending' && h.store.get(r.id)?.taskId);
      const canceled = await h.engine.cancel(r.id);
      assert.equal(canceled?.state, 'canceled');
      assert.equal(canceled?.serviceStatus, 'CANCELED');
      assert.equal(slow.requests().filter((q) => q.route === 'cancel').length, 1);
      assert.equal(slow.requests().filter((q) => q.route === 'create').length, 1, 'the queued one was never sent');
      await assert.rejects(h.engine.cancel(r.id), /only a queued or PENDING task can be canceled/);
    } finally {
      await slow.close();
    }
  });

  /** A loopback URL nothing listens at: a port bound, then let go. */
  async function closedPortUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
  }

  /** The configured endpoint can change; like the extension's, a task's own endpoint must be the configured one. */
  function switchable(first: EndpointRef): { set(e: EndpointRef): void; connect: EngineDeps['connect'] } {
    let current = first;
    return {
      set: (e) => (current = e),
      connect: async (forTask) => {
        if (forTask && forTask.baseUrl !== current.baseUrl) throw new Error(`this task belongs to ${forTask.baseUrl}, not the configured endpoint`);
        return { client: new WanClient({ baseUrl: current.baseUrl, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: current };
      },
    };
  }

  it('keeps a request for an unreachable endpoint queued, says so once with the URL, backs off, and sends it once the endpoint answers', async () => {
    const dead: EndpointRef = { kind: 'custom', baseUrl: await closedPortUrl() };
    const endpoints = switchable(dead);
    const h = harness(join(dir, 'unreachable.json'), { random: () => 0, connect: endpoints.connect });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: dead, outputFolder: out });
    const first = await until('the first failure', () => h.store.get(r.id)?.code === 'ECONNREFUSED' && h.store.get(r.id));
    assert.equal(first.state, 'queued');
    assert.ok(first.message?.includes(dead.baseUrl), `the row names the URL: ${first.message}`);
    const firstWait = first.notBefore! - first.updatedAt;
    const second = await until('a second failure', () => {
      const now = h.store.get(r.id);
      return now && now.notBefore !== first.notBefore && now.code === 'ECONNREFUSED' && now;
    }, 20_000);
    assert.ok(second.notBefore! - second.updatedAt > firstWait, `backs off: ${firstWait} ms, then ${second.notBefore! - second.updatedAt} ms`);
    assert.equal(h.outages.length, 1, 'one notice per outage, not per retry');
    assert.deepEqual([h.outages[0]!.url, h.outages[0]!.waiting], [dead.baseUrl, [r.id]]);
    assert.match(h.outages[0]!.reason, /ECONNREFUSED/);
    assert.equal(h.ended.length, 0, 'never called failed');

    // The user points the setting at a live endpoint: the never-sent request follows it at once.
    endpoints.set(endpoint());
    await h.engine.retryWaiting();
    const saved = await until('the save', () => h.store.get(r.id)?.save?.state === 'saved' && h.store.get(r.id), 40_000);
    assert.equal(saved.endpoint.baseUrl, emu.url);
    assert.equal(creates(), 1);
  });

  it('sends a never-sent request to the endpoint configured now, not the one configured when it was queued', async () => {
    const old: EndpointRef = { kind: 'custom', baseUrl: await closedPortUrl() };
    const endpoints = switchable(endpoint());
    const h = harness(join(dir, 'follows.json'), { connect: endpoints.connect });
    await h.store.load();
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: old, outputFolder: out });
    h.engine.start();
    const saved = await until('the save', () => {
      const now = h.store.get(r.id);
      return (now?.save?.state === 'saved' || now?.state === 'failed') && now;
    });
    assert.equal(saved.state, 'succeeded', `${saved.code ?? ''} ${saved.message ?? ''}`);
    assert.deepEqual(saved.endpoint, endpoint());
  });

  it('cancels the requests waiting for an unreachable endpoint', async () => {
    const dead: EndpointRef = { kind: 'custom', baseUrl: await closedPortUrl() };
    const h = harness(join(dir, 'unreachable-cancel.json'), { connect: switchable(dead).connect });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, duration: 2, resolution: '720P' }, { endpoint: dead, outputFolder: out });
    await until('the outage', () => h.outages.length === 1);
    assert.equal(await h.engine.cancelWaiting(dead.baseUrl), 1);
    assert.equal(h.store.get(r.id)?.state, 'canceled');
  });
});
