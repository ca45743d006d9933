// The learned poll schedule (src/tasks/schedule): history from task records and sidecars, the predicted
// end window, and the schedule around it, replayed on a virtual clock (no real timers are asserted on).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as runCli } from '../../src/cli/main';
import { EXIT } from '../../src/cli/exitCodes';
import { startEmulator } from '../../src/emulator/server';
import { TaskEngine } from '../../src/tasks/engine';
import { PollDelays } from '../../src/tasks/engine/poll';
import { STORE_VERSION, newTaskRecord, type TaskRecord } from '../../src/tasks/record';
import {
  DENSE_INTERVAL_MS,
  EndPredictor,
  SPARSE_MAX_MS,
  cellOf,
  denseIntervalMs,
  historyOfRecords,
  readFolderHistory,
  recordWindow,
  sampleOfRecord,
  simulateAccount,
  windowSchedule,
  type CellInput,
} from '../../src/tasks/schedule';
import { SIDECAR_FORMAT } from '../../src/tasks/sidecar';
import { TaskStore } from '../../src/tasks/store';
import { ADAPTIVE_SCHEDULE, WanClient, formatServiceTime, parseServiceTime, simulatePolling, type PollSchedule } from '../../src/wan';
import { makeImage, tempDir } from '../support/fixtures';
import { until } from '../support/waiting';

const S = 1000;
const T0 = Date.UTC(2026, 3, 13, 2, 0, 0);

/** A seeded generator (mulberry32), so every replay is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A finished task as the store holds it: service times (UTC+8 strings) `queueS` and `runS` apart. */
function finished(input: CellInput, at: number, runS: number, queueS = 0, over: Partial<TaskRecord> = {}): TaskRecord {
  return newTaskRecord({
    id: `r-${at}`,
    state: 'succeeded',
    serviceStatus: 'SUCCEEDED',
    request: { ...input, prompt: 'p' },
    endpoint: { kind: 'emulator', baseUrl: 'http://127.0.0.1:1' },
    requestedAt: at,
    updatedAt: at,
    sentAt: at,
    taskId: `t-${at}`,
    submitTime: formatServiceTime(new Date(at)),
    scheduledTime: formatServiceTime(new Date(at + queueS * S)),
    endTime: formatServiceTime(new Date(at + (queueS + runS) * S)),
    ...over,
  });
}

/** Eight kinds of task, each ending in its own 30 s span: together the 60–300 s mix of the bench. */
const KINDS: { input: CellInput; fromS: number }[] = [
  { input: { firstFrame: 'a', resolution: '720P', duration: 5 }, fromS: 60 },
  { input: { firstFrame: 'a', resolution: '1080P', duration: 5 }, fromS: 90 },
  { input: { firstFrame: 'a', lastFrame: 'b', resolution: '720P', duration: 5 }, fromS: 120 },
  { input: { firstFrame: 'a', resolution: '720P', duration: 10 }, fromS: 150 },
  { input: { firstFrame: 'a', resolution: '1080P', duration: 10 }, fromS: 180 },
  { input: { firstClip: 'c', resolution: '1080P', duration: 10 }, fromS: 210 },
  { input: { firstFrame: 'a', resolution: '720P', duration: 15 }, fromS: 240 },
  { input: { firstFrame: 'a', resolution: '1080P', duration: 15 }, fromS: 270 },
];

function history(perKind: number, seed: number, kinds = KINDS): TaskRecord[] {
  const random = seeded(seed);
  const out: TaskRecord[] = [];
  for (let i = 0; i < perKind; i++) for (const k of kinds) out.push(finished(k.input, T0 + out.length * 600 * S, k.fromS + random() * 30));
  return out;
}

/** Mean requests and detection delay (s) over the mix, durations × `slowdown`. */
function replay(schedule: (k: (typeof KINDS)[number]) => PollSchedule, slowdown = 1, samples = 800) {
  const random = seeded(42);
  let requests = 0;
  let late = 0;
  for (let i = 0; i < samples; i++) {
    const k = KINDS[Math.floor(random() * KINDS.length)]!;
    const r = simulatePolling(schedule(k), (k.fromS + random() * 30) * S * slowdown, random);
    requests += r.queries;
    late += r.lateMs;
  }
  return { requests: requests / samples, delayS: late / samples / S };
}

const learnedFrom = (p: EndPredictor) => (k: (typeof KINDS)[number]) => windowSchedule(p.window(cellOf(k.input)));

describe('learned poll schedule', () => {
  describe('history', () => {
    it('learns durations from the service’s own times, whatever our clock says, and only from successes', () => {
      const ok = finished({ firstFrame: 'a', resolution: '720P', duration: 5 }, T0, 75, 10, { sentAt: T0 + 3 * 3600 * S }); // our clock 3 h off
      const s = sampleOfRecord(ok);
      assert.deepEqual([s?.totalMs, s?.runMs, s?.cell], [85 * S, 75 * S, { mode: 'first-frame', resolution: '720P', band: 0 }]);
      assert.equal(sampleOfRecord({ ...ok, state: 'failed', serviceStatus: 'FAILED' }), undefined);
      assert.equal(sampleOfRecord({ ...ok, endTime: 'yesterday' }), undefined);
      assert.equal(sampleOfRecord({ ...ok, endTime: formatServiceTime(new Date(T0 - S)) }), undefined, 'an end before the submit');
      // The API's defaults fill the cell: 1080P, 5 s; a clip is a continuation, two frames a morph.
      assert.deepEqual(cellOf({ firstFrame: 'a' }), { mode: 'first-frame', resolution: '1080P', band: 0 });
      assert.deepEqual(cellOf({ firstFrame: 'a', lastFrame: 'b', duration: 8 }).mode, 'first-last');
      assert.deepEqual(cellOf({ firstClip: 'c', duration: 15 }), { mode: 'continue', resolution: '1080P', band: 2 });
    });

    it('reads the sidecars of a folder of saved videos made on the same endpoint, and skips anything else', async () => {
      const dir = await tempDir('learn-folder');
      await mkdir(join(dir, 'sub.json')); // a folder named like a file
      const BEIJING = 'https://dashscope.aliyuncs.com';
      const sidecar = (submit: number, end: number, endpoint: string | null = BEIJING) => ({
        format: SIDECAR_FORMAT,
        parameters: { resolution: '720P', duration: 5 },
        media: { first_frame: 'a.png' },
        submit_time: formatServiceTime(new Date(submit)),
        end_time: formatServiceTime(new Date(end)),
        ...(endpoint === null ? {} : { endpoint }),
      });
      await writeFile(join(dir, 'a.json'), JSON.stringify(sidecar(T0, T0 + 70 * S)));
      await writeFile(join(dir, 'b.json'), JSON.stringify(sidecar(T0, T0 + 80 * S, `${BEIJING}/`)));
      // Made elsewhere: a rehearsal's seconds, another region, a record that does not say.
      await writeFile(join(dir, 'rehearsal.json'), JSON.stringify(sidecar(T0, T0 + 3 * S, 'emulator')));
      await writeFile(join(dir, 'singapore.json'), JSON.stringify(sidecar(T0, T0 + 200 * S, 'https://dashscope-intl.aliyuncs.com')));
      await writeFile(join(dir, 'nameless.json'), JSON.stringify(sidecar(T0, T0 + 90 * S, null)));
      await writeFile(join(dir, 'half.json'), '{"format": "wan-studio.vi');
      await writeFile(join(dir, 'other.json'), JSON.stringify({ name: 'package' }));
      await writeFile(join(dir, 'a.mp4'), 'not json');
      const samples = await readFolderHistory(dir, { kind: 'custom', baseUrl: BEIJING });
      assert.deepEqual(samples.map((s) => s.totalMs).sort(), [70 * S, 80 * S]);
      assert.deepEqual((await readFolderHistory(dir, { kind: 'emulator', baseUrl: 'http://127.0.0.1:9' })).map((s) => s.totalMs), [3 * S]);
      assert.deepEqual(await readFolderHistory(join(dir, 'missing'), { kind: 'beijing', baseUrl: BEIJING }), []);
    });
  });

  describe('prediction', () => {
    it('cold start: no history of the kind nor enough near it is the adaptive schedule', () => {
      const cell = cellOf(KINDS[0]!.input);
      assert.equal(new EndPredictor([]).window(cell), undefined);
      // Two tasks of other kinds (not neighbours enough: fewer than 3 samples) teach nothing about this one.
      assert.equal(new EndPredictor(historyOfRecords(history(1, 1).slice(1, 3))).window(cell), undefined);
      assert.equal(windowSchedule(undefined), ADAPTIVE_SCHEDULE);
      const cold = replay(learnedFrom(new EndPredictor([])));
      const adaptive = replay(() => ADAPTIVE_SCHEDULE);
      assert.deepEqual(cold, adaptive);
    });

    it('one or two tasks of the kind give a wide window around them, not the adaptive schedule (a rehearsal’s second task)', () => {
      // Failed on the old code: fewer than 3 samples were no prediction, so a rehearsal's second and third 8 s
      // tasks were polled at 2, 5, 10 s of age and their ends seen 2–5 s late.
      const input = { firstFrame: 'a', resolution: '720P', duration: 2 } as const;
      const cell = cellOf(input);
      const one = new EndPredictor(historyOfRecords([finished(input, T0, 6, 2)])).window(cell)!;
      assert.equal(one.basis, 'few');
      assert.equal(one.samples, 1);
      assert.ok(one.loMs <= 8 * S * 0.6 && one.hiMs >= 8 * S * 1.4, `1 sample of 8 s: ${one.loMs}..${one.hiMs}`);
      const two = new EndPredictor(historyOfRecords([finished(input, T0, 6, 2), finished(input, T0 + 60 * S, 7, 2)])).window(cell)!;
      assert.ok(two.loMs < 8 * S && two.hiMs > 9 * S && two.hiMs - two.loMs < one.hiMs - one.loMs + 2 * S, JSON.stringify({ one, two }));
      // The schedule around it: the 2 s check, then every 1.5 s, so an 8 s task is seen within 1.5 s of its end.
      const polled = simulatePolling(windowSchedule(one), 8.2 * S, seeded(3));
      assert.ok(polled.lateMs <= DENSE_INTERVAL_MS * 1.1 && polled.queries <= 8, JSON.stringify(polled));
      // Three neighbours' samples still win over one of the cell's own (more evidence, a known pad).
      const mixed = new EndPredictor(historyOfRecords([...history(3, 1, [KINDS[1]!]), finished(KINDS[0]!.input, T0 + 99 * 3600 * S, 70)]));
      assert.equal(mixed.window(cellOf(KINDS[0]!.input))!.basis, 'neighbours');
    });

    it('a cell it never saw borrows from its neighbours, more widely', () => {
      const p = new EndPredictor(historyOfRecords(history(10, 2, [KINDS[0]!])));
      const own = p.window(cellOf(KINDS[0]!.input))!;
      const borrowed = p.window(cellOf({ ...KINDS[0]!.input, resolution: '1080P' }))!;
      assert.equal(own.basis, 'cell');
      assert.equal(borrowed.basis, 'neighbours');
      assert.ok(borrowed.loMs < own.loMs && borrowed.hiMs > own.hiMs, JSON.stringify({ own, borrowed }));
      assert.equal(p.window(cellOf({ firstClip: 'c', resolution: '1080P', duration: 15 })), undefined, 'nothing near: adaptive');
    });

    it('thin history widens the window; it narrows as samples come in, and still covers what was seen', () => {
      const cell = cellOf(KINDS[4]!.input);
      const widths = [3, 5, 10, 20].map((n) => {
        const samples = historyOfRecords(history(n, 3, [KINDS[4]!]));
        const w = new EndPredictor(samples).window(cell)!;
        const took = samples.map((s) => s.totalMs);
        assert.ok(w.loMs < Math.min(...took) && w.hiMs > Math.max(...took), `${n} samples: ${w.loMs}..${w.hiMs} for ${took.join(', ')}`);
        return w.hiMs - w.loMs;
      });
      assert.ok(widths[0]! > widths[1]! && widths[1]! > widths[2]!, widths.join(' > '));
      assert.ok(widths[0]! > 1.5 * widths[3]!, widths.join(', '));
    });

    it('a newest task outside the predicted window widens it (the service changed pace)', () => {
      const base = history(10, 4, [KINDS[1]!]);
      const steady = [...base, finished(KINDS[1]!.input, T0 + 90 * 3600 * S, 100)];
      const missed = [...base, finished(KINDS[1]!.input, T0 + 90 * 3600 * S, 160)];
      const cell = cellOf(KINDS[1]!.input);
      const a = new EndPredictor(historyOfRecords(steady)).window(cell)!;
      const b = new EndPredictor(historyOfRecords(missed)).window(cell)!;
      assert.ok(b.hiMs >= 160 * S && b.loMs < a.loMs, JSON.stringify({ a, b }));
    });

    it('once the task runs, predicts the run alone after the queue it actually had', () => {
      const input = KINDS[0]!.input;
      const p = new EndPredictor(historyOfRecords(Array.from({ length: 10 }, (_, i) => finished(input, T0 + i * 3600 * S, 70 + i, 5))));
      const pending = p.window(cellOf(input))!;
      const running = p.window(cellOf(input), 100 * S)!; // it waited 100 s for a slot
      assert.ok(pending.loMs < 80 * S && pending.hiMs < 90 * S, JSON.stringify(pending));
      assert.ok(running.loMs >= 165 * S && running.hiMs <= 185 * S, JSON.stringify(running));
    });

    it('a record’s window follows the service’s times even when our clock is minutes off', () => {
      const p = new EndPredictor(historyOfRecords(history(20, 5, [KINDS[2]!])));
      const sentAt = T0;
      const fresh = newTaskRecord({
        id: 'n',
        state: 'pending',
        request: KINDS[2]!.input,
        endpoint: { kind: 'emulator', baseUrl: 'x' },
        requestedAt: sentAt,
        updatedAt: sentAt,
        sentAt,
        taskId: 't',
        submitTime: formatServiceTime(new Date(sentAt + 4 * 60 * S)), // the service's clock is 4 min ahead
      });
      const w = p.window(cellOf(KINDS[2]!.input))!;
      const shifted = recordWindow(p, fresh)!;
      // The engine reads the age as (our now − submit_time): 4 min short; the window moves to match.
      assert.equal(shifted.loMs, Math.max(0, w.loMs - 4 * 60 * S));
      assert.equal(shifted.hiMs, w.hiMs - 4 * 60 * S);
    });
  });

  describe('the schedule around the window', () => {
    it('checks once early, then sparsely landing on the window, every 1.5 s inside it, growing steps up to the adaptive cadence past it', () => {
      const s = windowSchedule({ loMs: 200 * S, hiMs: 230 * S });
      assert.equal(s.baseDelayMs(1, 0), 2000);
      let age = 2 * S;
      let polls = 2;
      for (; age < 200 * S - DENSE_INTERVAL_MS; polls++) {
        const step = s.baseDelayMs(polls, age);
        assert.ok(step <= SPARSE_MAX_MS && step > 20 * S, `${step} ms at ${age}`);
        age += step;
      }
      assert.ok(Math.abs(age - 200 * S) < 1 && polls - 2 <= 7, `even steps land on the window: ${age} after ${polls - 2}`);
      assert.equal(s.baseDelayMs(9, 210 * S), DENSE_INTERVAL_MS);
      assert.equal(s.baseDelayMs(30, 240 * S), ADAPTIVE_SCHEDULE.baseDelayMs(30, 240 * S));
      // Just past a short task's window (a 2 s video): steps growing from dense with the lateness, not the
      // adaptive schedule's 10 s steps of a young task (the rehearsal waited up to 10 s for its video).
      const short = windowSchedule({ loMs: 8 * S, hiMs: 12 * S });
      assert.equal(short.baseDelayMs(5, 13 * S), DENSE_INTERVAL_MS);
      assert.equal(short.baseDelayMs(8, 22 * S), 5000);
      assert.equal(short.baseDelayMs(12, 50 * S), ADAPTIVE_SCHEDULE.baseDelayMs(12, 50 * S));
      // A very wide window spreads its polls rather than making hundreds.
      assert.ok(windowSchedule({ loMs: 60 * S, hiMs: 360 * S }).baseDelayMs(9, 100 * S) >= 5000);
    });

    it('with learned history: at most 21 requests and 1.5 s mean delay on the 60–300 s mix', () => {
      const learned = replay(learnedFrom(new EndPredictor(historyOfRecords(history(20, 7)))));
      assert.ok(learned.requests <= 21 && learned.delayS <= 1.5, JSON.stringify(learned));
      const adaptive = replay(() => ADAPTIVE_SCHEDULE);
      assert.ok(learned.requests < adaptive.requests && learned.delayS < adaptive.delayS);
    });

    it('a slowed service (the prediction is wrong) costs no more than the adaptive schedule, nor notices later', () => {
      const p = new EndPredictor(historyOfRecords(history(20, 7)));
      for (const slowdown of [1.5, 2]) {
        const learned = replay(learnedFrom(p), slowdown);
        const adaptive = replay(() => ADAPTIVE_SCHEDULE, slowdown);
        assert.ok(learned.requests <= adaptive.requests, `${slowdown}×: ${learned.requests} vs ${adaptive.requests} requests`);
        assert.ok(learned.delayS <= adaptive.delayS * 1.05, `${slowdown}×: ${learned.delayS} vs ${adaptive.delayS} s`);
      }
    });

    it('many tasks in their windows at once stay within the account’s 20 queries per second', () => {
      const window = new EndPredictor(historyOfRecords(history(20, 9, [KINDS[4]!]))).window(cellOf(KINDS[4]!.input));
      for (const [n, seed] of [
        [20, 1],
        [50, 2],
        [100, 3],
        [100, 4],
      ] as const) {
        const random = seeded(seed);
        // Submitted as fast as the account allows (5 creates per second), all of the same kind.
        const tasks = Array.from({ length: n }, (_, i) => ({ submitMs: i * 200, endMs: i * 200 + (180 + random() * 30) * S }));
        const shared = simulateAccount(tasks.map((t) => ({ ...t, schedule: (active: number) => windowSchedule(window, denseIntervalMs(active)) })), random);
        assert.ok(shared.peakPerSecond <= 20, `${n} tasks: ${shared.peakPerSecond} queries in one second`);
        assert.ok(shared.tasks.every((t) => t.lateMs < 20 * S));
        if (n === 100) {
          const alone = simulateAccount(tasks.map((t) => ({ ...t, schedule: () => windowSchedule(window) })), random);
          assert.ok(alone.peakPerSecond > 20, `without the shared budget: ${alone.peakPerSecond}`);
        }
      }
      assert.equal(denseIntervalMs(1), DENSE_INTERVAL_MS);
      assert.equal(denseIntervalMs(60), 10_000);
    });
  });

  describe('the engine’s poll delays', () => {
    it('learn from a task that ended a moment ago, not half a minute later (rehearsal tasks follow each other within seconds)', async () => {
      // Failed on the old code: the predictor was kept for 30 s whatever ended meanwhile, so the task after a
      // rehearsal's first one (8 s later) was still polled on the adaptive schedule.
      const dir = await tempDir('learned-delays');
      const store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 3000 });
      await store.load();
      const input = { firstFrame: 'a.png', resolution: '720P', duration: 2 } as const;
      let now = T0 + 3600 * S;
      const delays = new PollDelays(store, {}, () => now, () => 0.5);
      // A paid account's: a rehearsal's is polled densely from the start (below).
      const task = (id: string, at: number) =>
        newTaskRecord({ id, state: 'running', request: { ...input, prompt: 'p' }, endpoint: { kind: 'beijing', baseUrl: 'https://dashscope.aliyuncs.com' }, requestedAt: at, updatedAt: at, sentAt: at, taskId: `t-${id}`, submitTime: formatServiceTime(new Date(at)), polls: 3 });
      // Cold start: a 5 s old task on its third answer waits the adaptive 5 s.
      const first = await store.add(task('first', now - 5 * S));
      assert.equal(delays.delay(first, 0), ADAPTIVE_SCHEDULE.baseDelayMs(3, 5 * S));
      // The first ends (8 s of service time); a second starts 2 s later and is 5 s old on its third answer.
      await store.patch('first', (r) => Object.assign(r, { state: 'succeeded', serviceStatus: 'SUCCEEDED', scheduledTime: formatServiceTime(new Date(now - 3 * S)), endTime: formatServiceTime(new Date(now + 3 * S)) }));
      now += 5 * S;
      const second = await store.add(task('second', now - 5 * S));
      assert.equal(delays.delay(second, 0), DENSE_INTERVAL_MS, 'inside the window the one task before it gives');
    });

    it('poll a rehearsal with no history densely through its first minute, then back off; a paid task keeps the adaptive schedule', async () => {
      // Failed on the old code: a user's very first video (a rehearsal, nothing learned) was polled every 10 s
      // after its first seconds, so it was seen up to 10 s after the emulator finished it.
      const dir = await tempDir('learned-cold-rehearsal');
      const store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 3000 });
      await store.load();
      const now = T0;
      const delays = new PollDelays(store, {}, () => now, () => 0.5);
      const task = (id: string, endpoint: TaskRecord['endpoint'], ageS: number) =>
        newTaskRecord({ id, state: 'running', request: { firstFrame: 'a.png', resolution: '720P', duration: 2, prompt: 'p' }, endpoint, requestedAt: now - ageS * S, updatedAt: now, sentAt: now - ageS * S, taskId: `t-${id}`, submitTime: formatServiceTime(new Date(now - ageS * S)), polls: 3 });
      for (const age of [1, 8, 20, 40]) {
        const r = await store.add(task(`rehearsal-${age}`, { kind: 'emulator', baseUrl: 'http://127.0.0.1:9' }, age));
        assert.equal(delays.delay(r, 0), DENSE_INTERVAL_MS, `a ${age} s old rehearsal`);
      }
      const late = await store.add(task('rehearsal-late', { kind: 'emulator', baseUrl: 'http://127.0.0.1:9' }, 75));
      assert.ok(delays.delay(late, 0) > DENSE_INTERVAL_MS, 'past its first minute the steps grow');
      const paid = await store.add(task('paid', { kind: 'beijing', baseUrl: 'https://dashscope.aliyuncs.com' }, 20));
      assert.equal(delays.delay(paid, 0), ADAPTIVE_SCHEDULE.baseDelayMs(3, 20 * S));
    });

    it('learn only from the task’s own account: rehearsals do not teach the service, nor the service rehearsals', async () => {
      // Failed on the old code: the emulator's 8 s tasks set the window of a Beijing task (polled every 1.5 s
      // for its first seconds), and the service's 2-minute tasks left a rehearsal unchecked for half a minute.
      const dir = await tempDir('learned-accounts');
      const store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 3000 });
      await store.load();
      const input = { firstFrame: 'a.png', resolution: '720P', duration: 5 } as const;
      const now = T0 + 100 * 3600 * S;
      const delays = new PollDelays(store, {}, () => now, () => 0.5);
      const EMULATOR = { kind: 'emulator', baseUrl: 'http://127.0.0.1:9' } as const;
      const BEIJING = { kind: 'beijing', baseUrl: 'https://dashscope.aliyuncs.com' } as const;
      const SINGAPORE = { kind: 'singapore', baseUrl: 'https://dashscope-intl.aliyuncs.com' } as const;
      for (let i = 0; i < 10; i++) {
        await store.add(finished(input, T0 + i * 3600 * S, 8, 0, { id: `rehearsal-${i}`, endpoint: { ...EMULATOR, baseUrl: `http://127.0.0.1:${4000 + i}` } }));
        // As records rebuilt from the files beside the videos know them: by their URL alone.
        await store.add(finished(input, T0 + i * 3600 * S + S, 120, 0, { id: `singapore-${i}`, endpoint: { kind: 'custom', baseUrl: `${SINGAPORE.baseUrl}/` } }));
      }
      const task = (id: string, endpoint: TaskRecord['endpoint']) =>
        newTaskRecord({ id, state: 'pending', request: { ...input, prompt: 'p' }, endpoint, requestedAt: now - 5 * S, updatedAt: now, sentAt: now - 5 * S, taskId: `t-${id}`, submitTime: formatServiceTime(new Date(now - 5 * S)), polls: 3 });
      const rehearsal = await store.add(task('rehearsal-new', EMULATOR));
      assert.equal(delays.delay(rehearsal, 0), 2 * S, 'at 5 s a rehearsal’s next check lands on its 8 s tasks’ window (7–9 s), whatever port the emulator had');
      const singapore = await store.add(task('singapore-new', SINGAPORE));
      const sparse = delays.delay(singapore, 0);
      assert.ok(sparse > 15 * S && sparse <= SPARSE_MAX_MS, `a Singapore task at 5 s waits for its 2-minute window, learned from its URL's records: ${sparse} ms`);
      const beijing = await store.add(task('beijing-new', BEIJING));
      assert.equal(delays.delay(beijing, 0), ADAPTIVE_SCHEDULE.baseDelayMs(3, 5 * S), 'no history of its own: the adaptive schedule');
    });
  });

  describe('in the task engine (against the emulator)', function () {
    this.timeout(60_000);

    /** The delay the engine picks after a new task's first answer, with `past` finished tasks in its store. */
    async function delayAfterFirstAnswer(past: TaskRecord[]): Promise<number> {
      const KEY = 'sk-learned-schedule-key';
      const dir = await tempDir('learned-engine');
      const image = await makeImage(join(dir, 'cat.png'), 320, 240);
      const file = join(dir, 'tasks.json');
      await writeFile(file, JSON.stringify({ version: STORE_VERSION, tasks: past }));
      const emu = await startEmulator({ pendingMs: 600_000, runningMs: 600_000, apiKeys: [KEY], asGateway: true }); // it stays PENDING
      const store = new TaskStore({ file, leaseMs: 3000 });
      const engine = new TaskEngine({
        store,
        connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY }), endpoint: { kind: 'emulator', baseUrl: emu.url } }),
        log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
      });
      try {
        await store.load();
        let delay: number | undefined;
        let seenPolls = 0;
        store.onDidChange(() => {
          const r = store.all().find((t) => t.request.prompt === 'new');
          if (delay !== undefined || !r || r.polls === seenPolls || r.nextPollAt === undefined) return;
          seenPolls = r.polls;
          // Past the one quick check (a first answer that came early gets a second one, at 2 s of age).
          const age = Date.now() - (parseServiceTime(r.submitTime)?.getTime() ?? Date.now());
          if (r.polls >= 2 || age >= 2300) delay = r.nextPollAt - Date.now();
        });
        engine.start();
        await engine.submit({ firstFrame: image, prompt: 'new', resolution: '720P', duration: 5 }, { endpoint: { kind: 'emulator', baseUrl: emu.url }, outputFolder: dir });
        return await until('an answer past the quick check', () => delay, 50_000, 50);
      } finally {
        await engine.stop();
        await emu.close();
      }
    }

    it('learns from the store’s finished tasks: a task of a kind that takes 2 minutes is not checked every few seconds', async function () {
      this.timeout(150_000);
      const past = history(10, 11, [{ input: { firstFrame: 'old.png', resolution: '720P', duration: 5 }, fromS: 110 }]);
      const learned = await delayAfterFirstAnswer(past);
      assert.ok(learned > 15_000 && learned <= SPARSE_MAX_MS * 1.1, `next check in ${learned} ms`);
      // Nothing learned yet (cold start): the adaptive schedule's quick checks.
      const cold = await delayAfterFirstAnswer([]);
      assert.ok(cold < 6000, `next check in ${cold} ms`);
    });
  });

  describe('in the CLI', function () {
    this.timeout(60_000);

    it('learns from the .json records in its --out folder, and says what it expects', async () => {
      const KEY = 'sk-learned-cli-key';
      const dir = await tempDir('learned-cli');
      const image = await makeImage(join(dir, 'cat.png'), 320, 240);
      const out = join(dir, 'out');
      await mkdir(out);
      const emu = await startEmulator({ pendingMs: 100, runningMs: 300, apiKeys: [KEY], asGateway: true });
      const old = async (name: string, endpoint: string) => {
        for (let i = 0; i < 5; i++) {
          const submit = T0 + i * 3600 * S;
          const record = {
            format: SIDECAR_FORMAT,
            parameters: { resolution: '720P', duration: 2 },
            media: { first_frame: 'old.png' },
            submit_time: formatServiceTime(new Date(submit)),
            end_time: formatServiceTime(new Date(submit + (1 + i / 5) * S)), // like the emulator's tasks
            endpoint,
          };
          await writeFile(join(out, `${name}-${i}.json`), JSON.stringify(record));
        }
      };
      try {
        await old('old', emu.url);
        await old('beijing', 'https://dashscope.aliyuncs.com'); // another endpoint's: not counted
        const generate = async (folder: string, extra: string[] = []) => {
          const err: string[] = [];
          const io = { out: () => {}, err: (l: string) => err.push(l) };
          const args = ['generate', '--first-frame', image, '--base-url', emu.url, '--out', folder, '--resolution', '720P', '--duration', '2', ...extra];
          const code = await runCli(args, { DASHSCOPE_API_KEY: KEY }, io, new AbortController().signal);
          assert.equal(code, EXIT.ok, err.join('\n'));
          return err.join('\n');
        };
        assert.match(await generate(out), /usually end \d+-\d+ s after submission \(learned from 5 earlier videos of this endpoint/);
        assert.doesNotMatch(await generate(join(dir, 'empty')), /usually end/, 'nothing to learn from: the adaptive schedule');
        assert.doesNotMatch(await generate(out, ['--poll-interval', '1']), /usually end/, 'an interval asked for wins');
      } finally {
        await emu.close();
      }
    });
  });
});
