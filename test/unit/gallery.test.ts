// The Gallery's core on real files: entries from the task list and from a folder's own files (records beside
// videos, the CLI's bare `wan-<id>.mp4`), one per task, search and filters; batches; the poster frame.
import assert from 'node:assert/strict';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectGallery, filterGallery, scanFolder } from '../../src/gallery/entries';
import { PosterCache } from '../../src/gallery/poster';
import { batchInputName, batchSiblings } from '../../src/tasks/batch';
import { SIDECAR_FORMAT } from '../../src/tasks/sidecar';
import { makeVideo, tempDir } from '../support/fixtures';
import { record } from '../support/records';

const sidecar = (taskId: string, file: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    format: SIDECAR_FORMAT,
    model: 'wan2.7-i2v-2026-04-25',
    rehearsal: true,
    task_id: taskId,
    prompt: 'a red fox in snow',
    parameters: { resolution: '720P', duration: 2 },
    media: { first_frame: '/w/fox.png', last_frame: '/w/fox2.png' },
    end_time: '2026-11-30 10:00:00.000',
    endpoint: 'emulator',
    file,
    bytes: 1,
    ...over,
  });

describe('Gallery core', function () {
  this.timeout(120_000);
  let dir = '';
  let clip = '';

  before(async function () {
    dir = await tempDir('gallery');
    clip = await makeVideo(join(dir, 'source.mp4'), 1, 160, 120);
  });

  it('lists the task list’s videos and a folder’s (record beside it, or the CLI’s bare name), one entry per task', async function () {
    const out = join(await tempDir('gallery-out'));
    // Saved by the extension: in the task list and with its record beside it.
    const a = join(out, 'a-cat.mp4');
    await copyFile(clip, a);
    await writeFile(join(out, 'a-cat.json'), sidecar('task-a', a, { prompt: 'a cat', media: { first_frame: '/w/cat.png' } }));
    // Made in another window (only its record beside it).
    const b = join(out, 'fox.mp4');
    await copyFile(clip, b);
    await writeFile(join(out, 'fox.json'), sidecar('task-b', '/elsewhere/fox.mp4'));
    // Made by the CLI: no record, named by its task ID.
    const c = join(out, 'wan-task-c.mp4');
    await copyFile(clip, c);
    // Not videos of ours: a record whose video is gone, a half-written video, an unrelated JSON.
    await writeFile(join(out, 'gone.json'), sidecar('task-d', join(out, 'gone.mp4')));
    await writeFile(join(out, 'partial.mp4'), (await readFile(clip)).subarray(0, 200));
    await writeFile(join(out, 'package.json'), '{"name":"x"}');
    const saved = record({ state: 'succeeded', taskId: 'task-a', request: { firstFrame: '/w/cat.png', prompt: 'a cat', duration: 2 }, save: { state: 'saved', file: a, attempts: 1 } });
    const deleted = record({ state: 'succeeded', taskId: 'task-e', save: { state: 'saved', file: join(out, 'deleted.mp4'), attempts: 1 } });
    const running = record({ state: 'running', taskId: 'task-f' });

    const entries = await collectGallery([saved, deleted, running], [out, out]);
    const byKey = new Map(entries.map((e) => [e.key, e]));
    assert.deepEqual([...byKey.keys()].sort(), ['task-a', 'task-b', 'task-c']);
    assert.equal(entries.length, 3);
    const ea = byKey.get('task-a')!;
    assert.equal(ea.source, 'task');
    assert.equal(ea.recordId, saved.id);
    assert.equal(ea.sidecar, join(out, 'a-cat.json'));
    assert.equal(ea.mode, 'animate');
    const eb = byKey.get('task-b')!;
    assert.deepEqual([eb.source, eb.file, eb.mode, eb.prompt, eb.resolution], ['sidecar', b, 'morph', 'a red fox in snow', '720P']);
    const ec = byKey.get('task-c')!;
    assert.deepEqual([ec.source, ec.file, ec.mode, ec.taskId], ['file', c, 'unknown', 'task-c']);
    assert.equal(ec.bytes, (await stat(c)).size);
    // The same CLI video is one entry when the task list holds its task too.
    const adopted = record({ state: 'succeeded', taskId: 'task-c', request: { prompt: 'from the account' }, save: { state: 'saved', file: c, attempts: 1 } });
    const again = await collectGallery([saved, adopted], [out]);
    assert.equal(again.length, 3);
    assert.equal(again.find((e) => e.key === 'task-c')?.prompt, 'from the account');
    assert.equal((await scanFolder(join(out, 'missing'))).length, 0);
  });

  it('searches prompts and names (all words, any case) and filters by mode and date', function () {
    const base = { bytes: 1, rehearsal: false, source: 'sidecar' as const };
    const entries = [
      { ...base, key: '1', file: '/v/1.mp4', prompt: 'A Red fox in snow', mode: 'animate' as const, madeAt: 1000 },
      { ...base, key: '2', file: '/v/2.mp4', prompt: 'a blue fox', mode: 'morph' as const, madeAt: 2000 },
      { ...base, key: '3', file: '/v/wan-xyz.mp4', prompt: '', mode: 'unknown' as const, madeAt: 3000 },
    ];
    assert.deepEqual(filterGallery(entries, { query: 'fox RED' }).map((e) => e.key), ['1']);
    assert.deepEqual(filterGallery(entries, { query: 'fox' }).map((e) => e.key), ['1', '2']);
    assert.deepEqual(filterGallery(entries, { query: 'wan-xyz' }).map((e) => e.key), ['3']);
    assert.deepEqual(filterGallery(entries, { mode: 'morph' }).map((e) => e.key), ['2']);
    assert.deepEqual(filterGallery(entries, { from: 1500, to: 3000 }).map((e) => e.key), ['2']);
    assert.deepEqual(filterGallery(entries, {}).length, 3);
  });

  it('knows a batch’s rows apart by their image, and a lone task or a task a minute later is no batch', function () {
    const t = Date.now();
    const q = { prompt: 'a gentle zoom', seed: 7, duration: 2 };
    const one = record({ requestedAt: t, request: { ...q, firstFrame: '/w/one.png' } });
    const two = record({ requestedAt: t + 300, request: { ...q, firstFrame: '/w/two.png' } });
    const three = record({ requestedAt: t + 600, request: { ...q, firstFrame: '/w/three.png' } });
    const otherSeed = record({ requestedAt: t + 700, request: { ...q, seed: 8, firstFrame: '/w/four.png' } });
    const later = record({ requestedAt: t + 120_000, request: { ...q, firstFrame: '/w/five.png' } });
    const all = [one, two, three, otherSeed, later];
    assert.deepEqual(batchSiblings(one, all).map((r) => r.id), [two.id, three.id]);
    assert.deepEqual(batchSiblings(otherSeed, all), []);
    assert.deepEqual(batchSiblings(later, all), []);
    assert.deepEqual([one, two, three].map(batchInputName), ['one.png', 'two.png', 'three.png']);
  });

  it('takes a poster frame once (a PNG of the video’s first frame) and reuses it; a damaged video gives none', async function () {
    const cache = new PosterCache(join(dir, 'posters'));
    assert.equal(await cache.cached(clip), undefined);
    const started = Date.now();
    const [p1, p2] = await Promise.all([cache.posterOf(clip), cache.posterOf(clip)]);
    assert.ok(p1, 'a poster was made');
    assert.equal(p1, p2);
    const png = await readFile(p1);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.readUInt32BE(16), 320, 'scaled to the poster width');
    assert.equal(png.readUInt32BE(20), 240);
    const made = Date.now() - started;
    const again = Date.now();
    assert.equal(await cache.posterOf(clip), p1);
    assert.ok(Date.now() - again < Math.max(50, made / 4), 'the second time reads the cache');
    assert.equal(await cache.cached(clip), p1);
    const broken = join(dir, 'broken.mp4');
    await writeFile(broken, 'not a video');
    assert.equal(await cache.posterOf(broken), undefined);
  });
});
