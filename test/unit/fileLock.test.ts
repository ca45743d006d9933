// The task list's cross-process lock, with real processes: a holder that crashed is taken over, a live
// holder keeps its lock however long it works, and a holder that stalled past the staleness limit (so was
// taken over) neither writes over the new holder's change nor removes the new holder's lock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withFileLock } from '../../src/tasks/lock';
import { TaskStore } from '../../src/tasks/store';
import { tempDir } from '../support/fixtures';
import { record } from '../support/records';

const lockModule = resolve(__dirname, '../../src/tasks/lock.js');
const storeModule = resolve(__dirname, '../../src/tasks/store.js');
const recordsModule = resolve(__dirname, '../support/records.js');

/** Blocks this thread, as a window whose extension host hangs (no timer of it runs meanwhile). */
const BLOCK = 'const block = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);';

/** A Node process running `script`; `inside` resolves when it prints "inside" (it holds the lock). */
function child(script: string, args: string[]) {
  const p = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let signalInside: () => void = () => undefined;
  const inside = new Promise<void>((r) => (signalInside = r));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('inside')) signalInside();
  });
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => p.on('exit', (code) => done(code)));
  return { process: p, inside, exited, output: () => ({ out, err }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('task list lock', () => {
  let dir: string;
  let lock: string;
  beforeEach(async () => {
    dir = await tempDir('lock');
    lock = join(dir, 'tasks.json.lock');
  });

  it('takes over a lock whose holder crashed, once it is stale', async function () {
    this.timeout(30_000);
    const holder = child(
      `require(${JSON.stringify(lockModule)}).withFileLock(process.argv[1], () => { console.log('inside'); return new Promise(() => {}); });`,
      [lock],
    );
    await holder.inside;
    holder.process.kill('SIGKILL');
    await holder.exited;
    const started = Date.now();
    const value = await withFileLock(lock, () => Promise.resolve('mine'), { staleMs: 300, waitMs: 10_000 });
    assert.equal(value, 'mine');
    assert.ok(Date.now() - started < 8_000, 'taken over well before the wait ran out');
    await assert.rejects(stat(lock), 'released');
  });

  it('honours the directory lock of an earlier version, and takes it over once stale', async () => {
    await mkdir(lock);
    await assert.rejects(withFileLock(lock, () => Promise.resolve(), { staleMs: 60_000, waitMs: 200 }), /locked by another window/);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    assert.equal(await withFileLock(lock, () => Promise.resolve('mine'), { staleMs: 60_000, waitMs: 200 }), 'mine');
  });

  it('keeps the lock of a live holder that works past the staleness limit', async function () {
    this.timeout(30_000);
    const spans: Array<[string, number, number]> = [];
    const hold = (name: string, ms: number) => async () => {
      const from = Date.now();
      await sleep(ms);
      spans.push([name, from, Date.now()]);
    };
    const a = withFileLock(lock, hold('a', 1_500), { staleMs: 400 });
    await sleep(50);
    const b = withFileLock(lock, hold('b', 10), { staleMs: 400, waitMs: 10_000 });
    await Promise.all([a, b]);
    const [first, second] = spans;
    assert.ok(first && second);
    assert.equal(first[0], 'a');
    assert.ok(second[1] >= first[2], `b entered at ${second[1] - first[1]} ms, while a held the lock until ${first[2] - first[1]} ms`);
  });

  it('never removes a lock another process took over while this one stalled', async function () {
    this.timeout(30_000);
    // The stalled holder: blocked past the staleness limit, then it finishes and releases.
    const stalled = child(
      `${BLOCK}
      require(${JSON.stringify(lockModule)}).withFileLock(process.argv[1], async () => { console.log('inside'); block(1500); }, { staleMs: 300 })
        .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`,
      [lock],
    );
    await stalled.inside;
    let stalledExit: number | null = -1;
    await withFileLock(
      lock,
      async () => {
        stalledExit = await stalled.exited; // the stalled holder wakes, finishes and releases meanwhile
        await stat(lock).catch(() => assert.fail('the lock this process holds was removed by the process it took it over from'));
      },
      { staleMs: 300, waitMs: 10_000 },
    );
    assert.equal(stalledExit, 0, stalled.output().err);
    await assert.rejects(stat(lock), 'released by its holder');
  });

  it('loses no update when a window stalls past the staleness limit while another takes over', async function () {
    this.timeout(30_000);
    const file = join(dir, 'tasks.json');
    const store = new TaskStore({ file, lockStaleMs: 300 });
    await store.load();
    // Window A hangs inside its change (only the first time: a change may be applied again).
    const a = child(
      `${BLOCK}
      const { TaskStore } = require(${JSON.stringify(storeModule)});
      const { record } = require(${JSON.stringify(recordsModule)});
      const s = new TaskStore({ file: process.argv[1], lockStaleMs: 300 });
      let first = true;
      s.load().then(() => s.update((t) => { t.push(record({ id: 'from-a' })); if (first) { first = false; console.log('inside'); block(1500); } }))
        .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`,
      [file],
    );
    await a.inside;
    // Window B takes the stale lock over and writes its record while A hangs.
    await store.add(record({ id: 'from-b' }));
    assert.equal(await a.exited, 0, a.output().err);
    await store.refresh();
    assert.deepEqual(store.all().map((r) => r.id).sort(), ['from-a', 'from-b']);
  });
});
