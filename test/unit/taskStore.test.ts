// The task store on real files: atomic writes, a crash between intent and task ID, corrupt and newer
// files kept aside, two windows (two store instances, and two processes) sharing one file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withFileLock } from '../../src/tasks/lock';
import { TaskStore, removeStaleTemporaries, type StoreRecovery } from '../../src/tasks/store';
import { needsWork } from '../../src/tasks/record';
import { tempDir } from '../support/fixtures';
import { record } from '../support/records';

describe('task store', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await tempDir('store');
    file = join(dir, 'tasks.json');
  });

  it('keeps an intent written before the create across a restart (crash between intent and ID)', async () => {
    const a = new TaskStore({ file });
    await a.load();
    const r = await a.add(record());
    await a.patch(r.id, (t) => {
      t.state = 'creating';
      t.sentAt = 1234;
    });
    // The process dies here: no task ID was ever written. A new window reads the file.
    const b = new TaskStore({ file });
    await b.load();
    const seen = b.get(r.id);
    assert.equal(seen?.state, 'creating');
    assert.equal(seen?.sentAt, 1234);
    assert.equal(seen?.taskId, undefined);
    assert.ok(seen && needsWork(seen), 'an interrupted create still needs work (a lookup)');
  });

  it('writes through a temporary file and a rename, leaving no temporary behind', async () => {
    const s = new TaskStore({ file });
    await s.load();
    for (let i = 0; i < 5; i++) await s.add(record());
    const names = await readdir(dir);
    assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), []);
    const json = JSON.parse(await readFile(file, 'utf8')) as { version: number; tasks: unknown[] };
    assert.equal(json.version, 1);
    assert.equal(json.tasks.length, 5);
  });

  it('ignores (and later removes) a temporary file left by a writer that died mid-write', async () => {
    const s = new TaskStore({ file });
    await s.load();
    await s.add(record({ id: 'kept' }));
    const stale = `${file}.deadbeef.tmp`;
    await writeFile(stale, '{"version":1,"tasks":[{"id":"half');
    const t = new TaskStore({ file });
    await t.load();
    assert.deepEqual(t.all().map((r) => r.id), ['kept']);
    assert.equal(await removeStaleTemporaries(file, -1), 1);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
  });

  it('keeps a corrupt file aside with a warning and starts empty', async () => {
    await writeFile(file, '{"version":1,"tasks":[{"id":');
    const warnings: string[] = [];
    const s = new TaskStore({ file, onWarning: (w) => warnings.push(w) });
    await s.load();
    assert.equal(s.all().length, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /kept aside as .*tasks\.corrupt-.*\.json because it is not valid JSON/);
    const aside = (await readdir(dir)).find((n) => n.startsWith('tasks.corrupt-'));
    assert.ok(aside);
    assert.equal(await readFile(join(dir, aside), 'utf8'), '{"version":1,"tasks":[{"id":');
  });

  it('keeps a newer-format file aside instead of overwriting it', async () => {
    const newer = JSON.stringify({ version: 2, tasks: [{ id: 'x', fancy: true }] });
    await writeFile(file, newer);
    const warnings: string[] = [];
    const s = new TaskStore({ file, onWarning: (w) => warnings.push(w) });
    await s.load();
    await s.add(record());
    assert.match(warnings[0]!, /newer version of Wan Studio \(format 2\)/);
    const aside = (await readdir(dir)).find((n) => n.startsWith('tasks.v2-'));
    assert.ok(aside);
    assert.equal(await readFile(join(dir, aside), 'utf8'), newer);
  });

  it('reads the good records of a partly damaged file and keeps a copy of the whole file', async () => {
    const good = record({ id: 'good' });
    await writeFile(file, JSON.stringify({ version: 1, tasks: [good, { id: 'bad', state: 'exploded' }] }));
    const warnings: string[] = [];
    const s = new TaskStore({ file, onWarning: (w) => warnings.push(w) });
    await s.load();
    assert.deepEqual(s.all().map((r) => r.id), ['good']);
    assert.match(warnings[0]!, /1 of its 2 records could not be read/);
    const copy = (await readdir(dir)).find((n) => n.startsWith('tasks.partial-'));
    assert.ok(copy);
    assert.match(await readFile(join(dir, copy), 'utf8'), /exploded/);
  });

  it('rebuilds a damaged file from the last good copy and this window’s memory, keeping both files and reporting it', async () => {
    const a = new TaskStore({ file });
    await a.load();
    await a.add(record({ id: 'old' }));
    const kept = structuredClone(a.get('old')!);
    await a.add(record({ id: 'newer' }));
    // Another window's last good copy lacks "newer"; this window still holds it in memory.
    await writeFile(a.lastGoodFile, JSON.stringify({ version: 1, tasks: [kept] }));
    await writeFile(file, 'garbage');
    const recoveries: StoreRecovery[] = [];
    a.onDidRecover((r) => recoveries.push(r));
    assert.equal(await a.refresh(), true);
    assert.deepEqual(a.all().map((r) => r.id).sort(), ['newer', 'old']);
    await new Promise((done) => setImmediate(done));
    assert.equal(recoveries.length, 1);
    assert.equal(recoveries[0]!.fromLastGood, 1);
    assert.equal(recoveries[0]!.fromMemory, 1);
    assert.equal(await readFile(recoveries[0]!.damagedCopy, 'utf8'), 'garbage');
    assert.equal(JSON.parse(await readFile(recoveries[0]!.lastGoodCopy!, 'utf8')).tasks.length, 1);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).tasks.length, 2, 'written back at once');
    // Truncated while no window was open: the next window reads the last good copy.
    await writeFile(file, '');
    const b = new TaskStore({ file });
    await b.load();
    assert.deepEqual(b.all().map((r) => r.id).sort(), ['newer', 'old']);
  });

  it('leaves no temporary file when the disk refuses the write', async function () {
    this.timeout(30_000);
    const storeModule = resolve(__dirname, '../../src/tasks/store.js');
    // A file size limit makes the kernel refuse the write (EFBIG), as a full disk does (ENOSPC).
    const script = `
      const { writeAtomic } = require(${JSON.stringify(storeModule)});
      writeAtomic(process.argv[1], Buffer.alloc(64 * 1024, 120)).then(
        () => process.exit(2),
        (e) => { console.log(e.code); process.exit(0); });`;
    const target = join(dir, 'big.json');
    const code = await new Promise<string>((done, fail) =>
      execFile('/bin/sh', ['-c', 'ulimit -f 8 && exec "$0" -e "$1" "$2"', process.execPath, script, target], (error, out, err) => (error ? fail(new Error(err || error.message)) : done(out.trim()))),
    );
    assert.equal(code, 'EFBIG');
    assert.deepEqual(await readdir(dir), [], 'neither the file nor a temporary');
  });

  it('hands a lease over between two windows: not while held, at once on release, after expiry on a crash', async () => {
    let now = 1_000_000;
    const a = new TaskStore({ file, owner: 'A', leaseMs: 30_000, now: () => now });
    const b = new TaskStore({ file, owner: 'B', leaseMs: 30_000, now: () => now });
    await a.load();
    await b.load();
    const r = await a.add(record());
    assert.deepEqual(await a.claim(needsWork), [r.id]);
    assert.deepEqual(await b.claim(needsWork), [], 'B must not take a task A holds');
    await a.release(); // A's window closes
    assert.deepEqual(await b.claim(needsWork), [r.id]);
    assert.deepEqual(await a.claim(needsWork), [], 'A, reopened, must not take it back while B holds it');
    now += 29_000;
    assert.deepEqual(await b.claim(needsWork), [r.id], 'renewal');
    now += 29_000;
    assert.deepEqual(await a.claim(needsWork), [], 'B renewed 29 s ago: still B');
    now += 2_000; // B stops renewing (crashed): its lease lapses
    assert.deepEqual(await a.claim(needsWork), [r.id]);
    assert.equal(a.get(r.id)?.lease?.owner, 'A');
  });

  it('drops its lease on a record that needs no more work', async () => {
    const a = new TaskStore({ file, owner: 'A' });
    await a.load();
    const r = await a.add(record());
    await a.claim(needsWork);
    await a.patch(r.id, (t) => (t.state = 'failed'));
    await a.claim(needsWork);
    assert.equal(a.get(r.id)?.lease, undefined);
  });

  it('notices another window’s change on refresh', async () => {
    const a = new TaskStore({ file });
    const b = new TaskStore({ file });
    await a.load();
    await b.load();
    let fired = 0;
    b.onDidChange(() => fired++);
    assert.equal(await b.refresh(), false);
    await a.add(record({ id: 'from-a' }));
    assert.equal(await b.refresh(), true);
    assert.equal(fired, 1);
    assert.ok(b.get('from-a'));
  });

  it('loses no update when two processes write at once', async function () {
    this.timeout(60_000);
    const s = new TaskStore({ file });
    await s.load();
    const storeModule = resolve(__dirname, '../../src/tasks/store.js');
    const script = `
      const { TaskStore } = require(${JSON.stringify(storeModule)});
      const s = new TaskStore({ file: process.argv[1] });
      (async () => {
        await s.load();
        for (let i = 0; i < 25; i++) {
          const now = Date.now();
          await s.update((t) => { t.push({ id: process.argv[2] + i, state: 'queued', request: {}, endpoint: { kind: 'emulator', baseUrl: '' },
            requestedAt: now, updatedAt: now, createAttempts: 0, polls: 0, pollFailures: 0, announced: false, expiryWarned: false }); });
        }
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = (tag: string) =>
      new Promise<void>((done, fail) =>
        execFile(process.execPath, ['-e', script, file, tag], (error, _out, err) => (error ? fail(new Error(err || error.message)) : done())),
      );
    await Promise.all([run('p'), run('q')]);
    await s.refresh();
    assert.equal(s.all().length, 50);
    assert.equal(new Set(s.all().map((r) => r.id)).size, 50);
  });
  // A reloaded window's Tasks view waited for the list's lock (held by another window, or left by the closing one
  // until it went stale) before it showed a row it could already read.
  it('shows the list as read while another window holds its lock, then loads it under the lock', async function () {
    this.timeout(20_000);
    const a = new TaskStore({ file });
    await a.load();
    const r = await a.add(record());
    let release!: () => void;
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const holder = withFileLock(`${file}.lock`, () => {
      held();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await isHeld;
    const b = new TaskStore({ file });
    let changes = 0;
    b.onDidChange(() => changes++);
    const loading = b.load();
    try {
      const deadline = Date.now() + 3000;
      while (b.all().length === 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
      assert.deepEqual(b.all().map((t) => t.id), [r.id], 'the record shown before the lock is free');
      assert.ok(changes >= 1, 'and announced, so the view draws it');
    } finally {
      release();
      await holder;
    }
    await loading;
    assert.equal(b.get(r.id)?.id, r.id);
  });
});
