// Saving videos under faults, against a fresh emulator per test over real HTTP, with real files: a synced
// task already saved is not downloaded again; a damaged task list is rebuilt without losing a running task;
// a full disk between the video and its record retries only the record; a killed download is resumed; the
// result link, not the clock, decides whether a result expired.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { TaskEngine, type EngineDeps, type EngineEvents } from '../../src/tasks/engine';
import { videoBaseName } from '../../src/tasks/naming';
import type { TaskRecord } from '../../src/tasks/record';
import { sidecarPathOf, writeSidecar } from '../../src/tasks/sidecar';
import { TaskStore, type StoreRecovery } from '../../src/tasks/store';
import { WanClient, checkCreateBody, fixedSchedule } from '../../src/wan';
import { parseServiceTime } from '../../src/wan/time';
import { makeImage, tempDir } from '../support/fixtures';
import { until as pollUntil } from '../support/waiting';

const KEY = 'sk-save-test-key';

interface Harness {
  store: TaskStore;
  engine: TaskEngine;
  ended: TaskRecord[];
  expiring: TaskRecord[];
  recovered: { recovery: StoreRecovery; outcome: Parameters<NonNullable<EngineEvents['recovered']>>[1]; fromRecords: TaskRecord[] }[];
  storage: (string | undefined)[];
}

describe('saving videos under faults (against the emulator)', function () {
  this.timeout(90_000);
  let emu: RunningEmulator;
  let dir: string;
  let image: string;
  let out: string;
  let running: Harness[] = [];

  before(async () => {
    dir = await tempDir('save');
    image = await makeImage(join(dir, 'cat.png'), 320, 240);
  });
  beforeEach(async () => {
    out = await tempDir('save-out');
    emu = await startEmulator({ pendingMs: 300, runningMs: 600, apiKeys: [KEY] });
  });
  afterEach(async () => {
    await Promise.all(running.map((h) => h.engine.stop()));
    running = [];
    await emu?.close();
  });

  function harness(file: string, over: Partial<EngineDeps> = {}): Harness {
    const store = new TaskStore({ file, leaseMs: 3000 });
    const h: Harness = { store, engine: undefined as unknown as TaskEngine, ended: [], expiring: [], recovered: [], storage: [] };
    h.engine = new TaskEngine(
      {
        store,
        connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: { kind: 'emulator', baseUrl: emu.url } }),
        schedule: fixedSchedule(150),
        outputFolderFor: async () => out,
        log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
        ...over,
      },
      {
        ended: (r) => h.ended.push(r),
        expiring: (r) => h.expiring.push(r),
        recovered: (recovery, outcome, fromRecords) => h.recovered.push({ recovery, outcome, fromRecords }),
        storage: (problem) => h.storage.push(problem),
      },
    );
    running.push(h);
    return h;
  }

  /**
   * Overwrites the task list between two of the store's own updates (holding its lock), so an update already
   * in flight cannot write a good list over the damage before it is read.
   */
  async function overwriteUnderLock(file: string, text: string): Promise<void> {
    while (!(await mkdir(`${file}.lock`).then(() => true, () => false))) await new Promise((done) => setTimeout(done, 5));
    try {
      await writeFile(file, text);
    } finally {
      await rm(`${file}.lock`, { recursive: true, force: true });
    }
  }
  const endpoint = () => ({ kind: 'emulator' as const, baseUrl: emu.url });
  const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 30_000) => pollUntil(what, probe, ms, 50);
  const creates = () => emu.requests().filter((r) => r.route === 'create' && r.status === 200).length;
  const downloads = () => emu.requests().filter((r) => r.route === 'download');
  const files = async () => (await readdir(out)).filter((f) => !f.startsWith('.')).sort();
  // Saved, and the record beside the video written (it follows the video).
  const saved = (h: Harness, id: string) => h.store.get(id)?.save?.state === 'saved' && !h.store.get(id)?.save?.pendingRecord && h.store.get(id);

  it('lists a synced task whose video is already saved as saved, never downloading it again', async () => {
    const h = harness(join(dir, 'sync-saved.json'));
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'saved once', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const first = await until('the save', () => saved(h, r.id));
    await until('the announcement', () => h.ended.length === 1);
    const before = await files();
    assert.equal(before.length, 2);
    assert.equal(await h.engine.clearFinished(), 1);
    const fetched = downloads().length;

    const added = await h.engine.syncFromAccount({ outputFolder: out });
    assert.equal(added.length, 1);
    assert.equal(added[0]?.taskId, first.taskId);
    assert.equal(added[0]?.save?.state, 'saved', 'listed as saved at once');
    assert.equal(added[0]?.save?.file, first.save?.file);
    await new Promise((done) => setTimeout(done, 1500)); // give a (wrong) second download time to happen
    assert.equal(downloads().length, fetched, 'not downloaded again');
    assert.deepEqual(await files(), before, 'no -2 copy, no second record');
    assert.equal(h.ended.length, 1, 'no second announcement');
  });

  it('reads each record beside the saved videos once per sync, not once per synced task', async () => {
    const reads: string[] = [];
    const h = harness(join(dir, 'sync-reads.json'), { readRecord: (path) => (reads.push(path), readFile(path, 'utf8')) });
    await h.store.load();
    h.engine.start();
    const tasks = await Promise.all(
      ['one of two', 'two of two'].map((prompt) => h.engine.submit({ firstFrame: image, prompt, duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out })),
    );
    for (const r of tasks) await until('the save', () => saved(h, r.id), 60_000);
    // A folder of earlier videos: their records name tasks this account no longer lists.
    for (let i = 0; i < 30; i++) {
      await writeFile(join(out, `older-${i}.json`), JSON.stringify({ format: 'wan-studio.video/1', task_id: `older-task-${i}`, file: `older-${i}.mp4`, endpoint: 'emulator', parameters: {}, media: {} }));
    }
    assert.equal(await h.engine.clearFinished(), 2);
    reads.length = 0;
    const added = await h.engine.syncFromAccount({ outputFolder: out });
    assert.deepEqual(added.map((r) => r.save?.state), ['saved', 'saved']);
    const records = (await readdir(out)).filter((f) => f.endsWith('.json')).length;
    assert.equal(records, 32);
    assert.ok(reads.length <= records, `${reads.length} reads of ${records} records for a sync of 2 tasks`);
  });

  it('rebuilds a task list overwritten with garbage while two tasks run: each saved once, one create each, the recovery reported', async () => {
    const file = join(dir, 'garbage.json');
    const h = harness(file);
    await h.store.load();
    h.engine.start();
    const a = await h.engine.submit({ firstFrame: image, prompt: 'first of two', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const b = await h.engine.submit({ firstFrame: image, prompt: 'second of two', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('both tasks to run', () => [a, b].every((r) => h.store.get(r.id)?.taskId && ['pending', 'running'].includes(h.store.get(r.id)!.state)));
    await overwriteUnderLock(file, 'garbage \u0000\u0001 not a task list');
    await until('both saves', () => saved(h, a.id) && saved(h, b.id));
    await until('the recovery report', () => h.recovered.length > 0);
    assert.equal(creates(), 2, 'one create each');
    const names = await files();
    assert.equal(names.filter((n) => n.endsWith('.mp4')).length, 2, `each video saved once: ${names.join(', ')}`);
    assert.equal(names.filter((n) => n.endsWith('.json')).length, 2);
    const { recovery, outcome } = h.recovered[0]!;
    assert.equal(recovery.fromMemory + recovery.fromLastGood, 2);
    assert.match(await readFile(recovery.damagedCopy, 'utf8'), /^garbage/, 'the damaged file is kept');
    assert.ok(recovery.lastGoodCopy, 'and the last good one');
    assert.equal(JSON.parse(await readFile(recovery.lastGoodCopy, 'utf8')).tasks.length, 2);
    assert.deepEqual('added' in outcome ? outcome.added : outcome, [], 'the account held nothing the list did not');
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { tasks: TaskRecord[] };
    assert.equal(onDisk.tasks.length, 2, 'the rebuilt list is written back');
  });

  it('lists again the saved videos of any age from the records beside them when the list and its last good copy are lost', async () => {
    const file = join(dir, 'lost-both.json');
    const first = harness(file);
    await first.store.load();
    first.engine.start();
    const r = await first.engine.submit({ firstFrame: image, prompt: 'saved this morning', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const done = await until('the save', () => saved(first, r.id));
    await first.engine.stop();
    running = [];
    // A video saved days ago: its task has long left the account's list; only the record beside it knows it.
    const video = done.save!.file!;
    await copyFile(video, join(out, 'last-week.mp4'));
    const old = JSON.parse(await readFile(sidecarPathOf(video), 'utf8')) as Record<string, unknown>;
    await writeFile(join(out, 'last-week.json'), JSON.stringify({ ...old, task_id: 'task-of-last-week', prompt: 'saved last week', file: join(out, 'last-week.mp4'), submit_time: '2026-11-20 10:00:00.000' }));
    await writeFile(file, 'garbage');
    await rm(first.store.lastGoodFile);
    const fetched = downloads().length;

    const second = harness(file, { outputFolders: async () => [out] });
    await second.store.load();
    second.engine.start();
    await until('the recovery report', () => second.recovered.length > 0);
    const { fromRecords } = second.recovered[0]!;
    assert.deepEqual(fromRecords.map((t) => t.taskId).sort(), [done.taskId, 'task-of-last-week'].sort());
    const week = second.store.byTaskId('task-of-last-week');
    assert.equal(week?.save?.state, 'saved');
    assert.equal(week?.save?.file, join(out, 'last-week.mp4'));
    assert.equal(week?.request.prompt, 'saved last week');
    assert.equal(second.store.byTaskId(done.taskId!)?.save?.file, video);
    assert.equal(second.store.all().length, 2, 'each once');
    await new Promise((wait) => setTimeout(wait, 1000));
    assert.equal(downloads().length, fetched, 'nothing downloaded again');
    assert.deepEqual(second.ended, [], 'nothing announced again');
  });

  it('rebuilds a list truncated while the window was closed from the last good copy, and adds the rest from the account', async () => {
    const file = join(dir, 'truncated.json');
    const first = harness(file);
    await first.store.load();
    first.engine.start();
    const a = await first.engine.submit({ firstFrame: image, prompt: 'kept by the last good copy', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the task to run', () => first.store.get(a.id)?.taskId);
    await first.engine.stop(); // the window closes mid-task
    running = [];
    // A task the list never heard of (made by the CLI): only the account knows it.
    const client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
    const body = { model: 'wan2.7-i2v-2026-04-25', input: { prompt: 'only the account knows', media: [{ type: 'first_frame', url: `data:image/png;base64,${(await readFile(image)).toString('base64')}` }] }, parameters: { duration: 2, resolution: '720P' } };
    const other = (await client.createTask(await checkCreateBody(body))).output.task_id;
    await client.close();
    await writeFile(file, '');

    const second = harness(file);
    await second.store.load();
    second.engine.start();
    assert.equal(second.store.get(a.id)?.taskId, first.store.get(a.id)?.taskId, 'the running task is back at once');
    await until('its save', () => saved(second, a.id));
    await until('the recovery report', () => second.recovered.length > 0);
    const { recovery, outcome } = second.recovered[0]!;
    assert.equal(recovery.fromLastGood, 1);
    assert.ok('added' in outcome && outcome.added.some((r) => r.taskId === other), 'the account’s task was added');
    await until('the other task’s save', () => second.store.byTaskId(other)?.save?.state === 'saved');
    assert.equal(creates(), 2);
    assert.equal((await files()).filter((n) => n.endsWith('.mp4')).length, 2);
  });

  it('keeps a video saved when the disk fills before its record: only the record is retried, no temporary file is left', async () => {
    let refusals = 0;
    const h = harness(join(dir, 'full.json'), {
      writeRecord: async (path, sidecar) => {
        if (refusals++ === 0) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
        await writeSidecar(path, sidecar);
      },
    });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'disk full', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    const s = await until('the save', () => saved(h, r.id));
    await until('the announcement', () => h.ended.length === 1);
    assert.equal(h.ended[0]?.save?.state, 'saved', 'told it is saved, not "could not be saved"');
    assert.match(h.ended[0]?.save?.pendingRecord?.error ?? '', /ENOSPC/, 'and that its record is not written yet');
    await until('the record, written on a later try', () => !h.store.get(r.id)?.save?.pendingRecord && h.store.get(r.id), 20_000);
    assert.equal(refusals, 2);
    assert.equal(downloads().length, 1, 'the video was downloaded once');
    const names = await files();
    assert.deepEqual(names.map((n) => n.replace(/\.(mp4|json)$/, '')), [s.save!.file!.split('/').pop()!.replace(/\.mp4$/, ''), s.save!.file!.split('/').pop()!.replace(/\.mp4$/, '')]);
    assert.deepEqual((await readdir(out)).filter((n) => n.endsWith('.tmp') || n.endsWith('.part')), []);
    assert.equal(JSON.parse(await readFile(s.save!.file!.replace(/\.mp4$/, '.json'), 'utf8')).task_id, s.taskId);
    assert.equal(h.ended.length, 1);
  });

  it('resumes a download a killed window left half done, from where it stopped', async () => {
    const place: { folder?: string } = {}; // no folder yet: the save waits
    const h = harness(join(dir, 'resume.json'), { outputFolderFor: async () => place.folder });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'killed mid-download', duration: 2, resolution: '720P' }, { endpoint: endpoint() });
    const waiting = await until('the save to wait for a folder', () => h.store.get(r.id)?.save?.state === 'failed' && h.store.get(r.id));
    const whole = Buffer.from(await (await fetch(waiting.videoUrl!)).arrayBuffer());
    const half = Math.floor(whole.length / 2);
    const base = videoBaseName({ date: parseServiceTime(waiting.endTime)!, prompt: 'killed mid-download', taskId: waiting.taskId! });
    await writeFile(join(out, `.${base}.part`), whole.subarray(0, half));
    emu.clearRequests();
    place.folder = out;
    await h.engine.retrySave(r.id);
    const s = await until('the save', () => saved(h, r.id));
    assert.deepEqual(downloads().map((q) => q.headers.range), [`bytes=${half}-`], 'one request, for the missing bytes');
    assert.deepEqual(await readFile(s.save!.file!), whole);
    assert.deepEqual((await readdir(out)).filter((n) => n.endsWith('.part')), []);
  });

  it('removes at startup the partial downloads that no task can resume', async () => {
    const file = join(dir, 'stale.json');
    const seed = new TaskStore({ file });
    await seed.load();
    const now = Date.now();
    await seed.add({ id: 'done', state: 'failed', request: { prompt: 'x' }, endpoint: endpoint(), outputFolder: out, requestedAt: now, updatedAt: now });
    const stale = join(out, '.2026-01-01_0000_old_abcdefgh.1a2b3c4d5e6f.part');
    const fresh = join(out, '.2026-01-01_0000_live_abcdefgh.part');
    await writeFile(stale, 'half a video');
    await writeFile(fresh, 'being written by another run');
    const old = new Date(now - 3600_000);
    await utimes(stale, old, old);
    const h = harness(file);
    await h.store.load();
    h.engine.start();
    await new Promise((done) => setTimeout(done, 1000));
    assert.equal(await stat(stale).then(() => true, () => false), false, 'a part nobody resumes, untouched for an hour, is removed');
    assert.equal(await stat(fresh).then(() => true, () => false), true, 'a part still being written is left alone');
  });

  it('tries the link of a result the local clock calls expired, and saves it without a contradictory warning', async () => {
    // This machine's clock runs 25 hours ahead of the service's.
    const h = harness(join(dir, 'clock.json'), { now: () => Date.now() + 25 * 3600_000 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'clocks disagree', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the save', () => saved(h, r.id));
    await until('the announcement', () => h.ended.length === 1);
    assert.equal(h.ended[0]?.save?.state, 'saved');
    assert.equal(h.expiring.length, 0, 'no "expires soon" for a video being saved');
  });

  it('calls a link refused past its expiry expired only after trying it; Retry Download tries again and tells the outcome', async () => {
    const h = harness(join(dir, 'refused.json'), { now: () => Date.now() + 25 * 3600_000 });
    emu.faults.add({ route: 'download', kind: 'status', status: 403, times: 1 });
    await h.store.load();
    h.engine.start();
    const r = await h.engine.submit({ firstFrame: image, prompt: 'refused', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the verdict', () => h.store.get(r.id)?.save?.state === 'expired');
    assert.equal(downloads().length, 1, 'the link was tried');
    await until('the announcement', () => h.ended.length === 1);
    assert.equal(h.expiring.length, 0, 'one message, not two contradicting each other');
    await h.engine.retrySave(r.id);
    await until('the save on retry', () => saved(h, r.id));
    await until('its announcement', () => h.ended.length === 2);
    assert.equal(h.ended[1]?.save?.state, 'saved');
  });

  it('says once that the task list cannot be written, backs off, and follows the tasks again when it can', async () => {
    const home = join(dir, 'storage');
    const file = join(home, 'globalStorage', 'tasks.json');
    const first = harness(file);
    await first.store.load();
    first.engine.start();
    const r = await first.engine.submit({ firstFrame: image, prompt: 'storage goes away', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the task to run', () => first.store.get(r.id)?.taskId);
    await first.engine.stop(); // the window closes mid-task
    running = [];
    // The folder cannot be written (nor read): a file stands where it was.
    await rename(home, `${home}.away`);
    await writeFile(home, 'in the way');
    const errors: string[] = [];
    const warnings: string[] = [];
    const second = harness(file, { log: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => errors.push(m) } });
    await assert.rejects(second.store.load(), { code: 'ENOTDIR' });
    second.engine.start();
    await until('the user to be told', () => second.storage.length > 0);
    await new Promise((done) => setTimeout(done, 3000));
    assert.equal(second.storage.length, 1, 'told once');
    assert.match(second.storage[0]!, /ENOTDIR/);
    assert.deepEqual(errors, [], 'no error storm');
    assert.ok(warnings.length <= 4, `backed off: ${warnings.length} warnings in 3 s`);
    await rm(home);
    await rename(`${home}.away`, home);
    await until('the task list to be followed again', () => second.storage.length === 2 && second.storage[1] === undefined, 40_000);
    await until('the save', () => saved(second, r.id), 30_000);
    assert.equal(creates(), 1);
  });
  // 12.6 in a real read-only condition: the folder can be read but nothing can be written in it (the test above
  // puts a file in its place, which cannot even be read). Root ignores permissions, so as root the folder is
  // bind-mounted onto itself read-only (EROFS, as the trial's read-only global storage); otherwise its write
  // permission is removed (EACCES).
  it('with the task list\'s folder really read-only, shows the list as read, says so once, and follows the tasks again when it can write', async function () {
    this.timeout(90_000);
    const home = join(dir, 'read-only-storage');
    const file = join(home, 'tasks.json');
    const first = harness(file);
    await first.store.load();
    first.engine.start();
    const r = await first.engine.submit({ firstFrame: image, prompt: 'storage read-only', duration: 2, resolution: '720P' }, { endpoint: endpoint(), outputFolder: out });
    await until('the task to run', () => first.store.get(r.id)?.taskId);
    await first.engine.stop(); // the window closes mid-task
    running = [];
    const writable = readOnly(home);
    let second: Harness;
    try {
      await assert.rejects(writeFile(join(home, 'probe'), ''), /EROFS|EACCES/, 'the folder is read-only for this process');
      second = harness(file);
      await assert.rejects(second.store.load(), { code: /^(EROFS|EACCES)$/ });
      assert.deepEqual(second.store.all().map((t) => t.id), [r.id], 'the list is shown as read, not empty');
      second.engine.start();
      await until('the user to be told', () => second.storage.length > 0);
      await new Promise((done) => setTimeout(done, 2000));
      assert.equal(second.storage.length, 1, 'told once');
      assert.match(second.storage[0]!, /EROFS|EACCES/);
      assert.equal(second.store.get(r.id)?.save?.state, undefined, 'nothing saved while the list cannot say so');
    } finally {
      writable();
    }
    await until('the task list to be followed again', () => second.storage.length === 2 && second.storage[1] === undefined, 40_000);
    await until('the save', () => saved(second, r.id), 30_000);
    assert.equal(creates(), 1);
  });
});

/** Makes `dir` read-only for this process until the returned function is called (see the test that uses it). */
function readOnly(dir: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
    } catch (error) {
      execFileSync('umount', [dir]);
      throw error;
    }
    return () => execFileSync('umount', [dir]);
  }
  chmodSync(dir, 0o555);
  return () => chmodSync(dir, 0o755);
}
