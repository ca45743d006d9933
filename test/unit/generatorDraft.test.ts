// The generation panel's pure parts (no vscode): how a draft becomes task requests, where each core
// problem is shown, and where prefilled, dropped or picked files go.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DraftBackup } from '../../src/extension/panel/draftBackup';
import { DraftChecker, fieldOf, requestsOf, seedOf } from '../../src/extension/panel/check';
import { placeFiles } from '../../src/extension/panel/prefill';
import { clipToMeasure, entryDraft } from '../../src/tasks/entryDraft';
import { SIDECAR_FORMAT } from '../../src/tasks/sidecar';
import { continuationDurations } from '../../src/wan/sizing';
import { DraftSchema, previewOf, type DraftInput, type Probe } from '../../src/protocol/generate';
import { makeImage, makeVideo, tempDir } from '../support/fixtures';

const draft = (input: DraftInput = {}) => DraftSchema.parse(input);

describe('generation panel: draft to requests', () => {
  it('sends only the inputs of the chosen mode, and keeps the others in the draft', () => {
    const d = draft({ mode: 'continue', firstFrame: '/a.png', lastFrame: '/b.png', drivingAudio: '/v.mp3', firstClip: '/c.mp4', duration: 8 });
    const [r] = requestsOf(d);
    assert.deepEqual({ firstClip: r?.firstClip, lastFrame: r?.lastFrame, firstFrame: r?.firstFrame, drivingAudio: r?.drivingAudio }, {
      firstClip: '/c.mp4',
      lastFrame: '/b.png',
      firstFrame: undefined,
      drivingAudio: undefined,
    });
    assert.equal(d.firstFrame, '/a.png');
    const [animate] = requestsOf({ ...d, mode: 'animate' });
    assert.equal(animate?.firstFrame, '/a.png');
    assert.equal(animate?.drivingAudio, '/v.mp3');
    assert.equal(animate?.lastFrame, undefined);
  });

  it('a batch is one request per image with the same settings; only in Animate', () => {
    const d = draft({ firstFrame: '/a.png', batch: ['/b.png', ' ', '/c.webp'], prompt: 'p', duration: 3, seed: '7' });
    const rs = requestsOf(d);
    assert.deepEqual(rs.map((r) => r.firstFrame), ['/a.png', '/b.png', '/c.webp']);
    assert.ok(rs.every((r) => r.prompt === 'p' && r.duration === 3 && r.seed === 7));
    assert.equal(requestsOf({ ...d, mode: 'morph' }).length, 1);
  });

  it('an empty seed is random (undefined); anything else goes to the core as a number', () => {
    assert.equal(seedOf(draft({ seed: '  ' })), undefined);
    assert.equal(seedOf(draft({ seed: '42' })), 42);
    assert.ok(Number.isNaN(seedOf(draft({ seed: 'abc' }))));
  });

  it('maps every core field to the form field it is shown beside', () => {
    assert.equal(fieldOf('input.media[first_frame]'), 'firstFrame');
    assert.equal(fieldOf('input.media[driving_audio]'), 'drivingAudio');
    assert.equal(fieldOf('input.media[1].url', ['firstFrame', 'lastFrame']), 'lastFrame');
    assert.equal(fieldOf('input.media'), 'media');
    assert.equal(fieldOf('input.prompt'), 'prompt');
    assert.equal(fieldOf('input.negative_prompt'), 'negativePrompt');
    assert.equal(fieldOf('parameters.duration'), 'duration');
    assert.equal(fieldOf('parameters.seed'), 'seed');
    assert.equal(fieldOf('model'), 'request');
  });
});

describe('generation panel: prefill and placing files', () => {
  it('an entry point\'s request holds only what the action chose, with the mode it implies', () => {
    assert.equal(entryDraft({ prefill: { firstClip: '/c.mp4' } }).mode, 'continue');
    assert.equal(entryDraft({ prefill: { firstFrame: '/x.png', lastFrame: '/y.png' } }).mode, 'morph');
    const withMode = entryDraft({ mode: 'morph', prefill: { seed: 9 } });
    assert.deepEqual(withMode, { ...draft({ mode: 'morph' }), seed: '9' });
    // Audio alone animates; a batch is the extra images of a multi-selection.
    assert.deepEqual(entryDraft({ prefill: { drivingAudio: '/v.wav' } }), draft({ mode: 'animate', drivingAudio: '/v.wav' }));
    assert.deepEqual(entryDraft({ mode: 'animate', prefill: { firstFrame: '/a.png' } }, { batch: ['/b.png', '/c.png'] }).batch, ['/b.png', '/c.png']);
    // Everything a caller names is taken as given.
    const full = entryDraft({ mode: 'continue', prefill: { firstClip: '/c.mp4', lastFrame: '/l.png', prompt: 'p', negativePrompt: 'n', resolution: '720P', duration: 9, seed: 1, promptExtend: false, watermark: true } }, { clipSeconds: 3 });
    assert.deepEqual(full, draft({ mode: 'continue', firstClip: '/c.mp4', lastFrame: '/l.png', prompt: 'p', negativePrompt: 'n', resolution: '720P', duration: 9, seed: '1', promptExtend: false, watermark: true }));
  });

  it('a continuation\'s default duration is valid for its clip (longer than it, at most 15 s)', () => {
    for (const [clip, expected] of [[2, 7], [3, 8], [5, 10], [9.5, 14], [10, 15], [4.999, 9]] as const) {
      const d = entryDraft({ mode: 'continue', prefill: { firstClip: '/c.mp4' } }, { clipSeconds: clip });
      assert.equal(d.duration, expected, `clip ${clip} s`);
      assert.ok(d.duration > clip && d.duration <= 15 && Number.isInteger(d.duration));
      assert.ok(continuationDurations(clip).min > clip);
    }
    assert.equal(clipToMeasure({ mode: 'continue', prefill: { firstClip: '/c.mp4' } }), '/c.mp4');
    assert.equal(clipToMeasure({ mode: 'continue', prefill: { firstClip: '/c.mp4', duration: 12 } }), undefined, 'a chosen duration is kept');
    assert.equal(clipToMeasure({ prefill: { firstClip: 'https://example.com/c.mp4' } }), undefined);
    assert.equal(clipToMeasure({ mode: 'animate', prefill: { firstFrame: '/a.png' } }), undefined);
  });

  it('dropped files go where their kind fits; what fits nowhere is refused', () => {
    const placed = placeFiles(draft(), ['/a.png', '/b.jpg', '/v.mp3', '/notes.txt']);
    assert.equal(placed.draft.firstFrame, '/a.png');
    assert.deepEqual(placed.draft.batch, ['/b.jpg']);
    assert.equal(placed.draft.drivingAudio, '/v.mp3');
    assert.deepEqual(placed.refused, ['/notes.txt']);
    const morph = placeFiles(draft({ mode: 'morph' }), ['/a.png', '/b.png']);
    assert.deepEqual([morph.draft.firstFrame, morph.draft.lastFrame], ['/a.png', '/b.png']);
    const clip = placeFiles(draft(), ['/c.MOV']);
    assert.equal(clip.draft.mode, 'continue');
    assert.equal(clip.draft.firstClip, '/c.MOV');
    const onSlot = placeFiles(draft({ mode: 'morph', firstFrame: '/a.png' }), ['/z.webp'], 'firstFrame');
    assert.equal(onSlot.draft.firstFrame, '/z.webp');
  });
});

describe("generation panel: the core's verdict on a draft", () => {
  let dir: string;
  let image: string;
  let clip: string;
  const checker = new DraftChecker({ required: (slot) => `choose ${slot}` });

  before(async () => {
    dir = await tempDir('draft-check');
    [image, clip] = await Promise.all([makeImage(join(dir, 'a.png'), 750, 1000), makeVideo(join(dir, 'c.mp4'), 3, 480, 640)]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports every problem at once, each beside its field', async () => {
    const v = await checker.check(draft({ mode: 'morph', firstFrame: join(dir, 'missing.png'), duration: 1, seed: '-1', prompt: 'x'.repeat(5001) }));
    const fields = new Set(v.issues.map((i) => i.field));
    for (const f of ['firstFrame', 'lastFrame', 'duration', 'seed', 'prompt'] as const) assert.ok(fields.has(f), `${f}: ${JSON.stringify(v.issues)}`);
    assert.equal(v.issues.find((i) => i.field === 'lastFrame')?.message, 'choose lastFrame');
    assert.equal(v.canGenerate, false);
    assert.equal(v.billedSeconds, undefined, 'no bill for a duration the service would refuse');
  });

  it('a clip: the output size follows the clip, billing the whole duration', async () => {
    const v = await checker.check(draft({ mode: 'continue', firstClip: clip, duration: 10, resolution: '720P' }));
    assert.deepEqual(v.issues, []);
    assert.equal(v.billedSeconds, 10);
    assert.ok(v.outputSize && v.outputSize.width < v.outputSize.height && v.outputSize.width % 16 === 0);
    assert.equal(v.probes.firstClip?.durationSeconds, 3);
  });

  it('a rehearsal’s clip, or a frame taken from one, sent to a paid endpoint is warned about (still allowed); a real one, or on the emulator, is not', async () => {
    const paid = new DraftChecker({ required: (slot) => `choose ${slot}`, rehearsalSource: (kind) => `a rehearsal ${kind}` });
    const emulator = new DraftChecker({ required: (slot) => `choose ${slot}`, rehearsalSource: () => undefined });
    const record = (name: string, fields: Record<string, unknown>) => writeFile(join(dir, `${name}.json`), JSON.stringify({ format: SIDECAR_FORMAT, task_id: `t-${name}`, file: `${name}.mp4`, ...fields }));
    const rehearsed = join(dir, 'rehearsed.mp4');
    const real = join(dir, 'real.mp4');
    await Promise.all([copyFile(clip, rehearsed), copyFile(clip, real)]);
    await record('rehearsed', { rehearsal: true, endpoint: 'emulator' });
    await record('real', { rehearsal: false, endpoint: 'https://dashscope.aliyuncs.com' });
    // Frames as the player names them beside their video ("Use This Frame").
    const rehearsedFrame = join(dir, 'rehearsed-frame-00m01s500.png');
    const realFrame = join(dir, 'real-frame-00m01s500.png');
    await Promise.all([copyFile(image, rehearsedFrame), copyFile(image, realFrame)]);
    const issuesOf = async (c: DraftChecker, d: DraftInput) => (await c.check(draft(d))).issues;
    const continued = (firstClip: string) => ({ mode: 'continue' as const, firstClip, duration: 10, resolution: '720P' as const });
    assert.deepEqual(await issuesOf(paid, continued(rehearsed)), [{ field: 'firstClip', message: 'a rehearsal clip', severity: 'warning' }]);
    assert.equal((await paid.check(draft(continued(rehearsed)))).canGenerate, true);
    assert.deepEqual(await issuesOf(paid, continued(real)), []);
    assert.deepEqual(await issuesOf(paid, continued(clip)), [], 'no record beside it: not known to be a rehearsal');
    assert.deepEqual(await issuesOf(emulator, continued(rehearsed)), [], 'rehearsing a continuation of a rehearsal');
    // A frame of a rehearsal, as a first frame, a last frame or in a batch; a frame of a real video is not.
    const morph = await issuesOf(paid, { mode: 'morph', firstFrame: rehearsedFrame, lastFrame: realFrame, duration: 5 });
    assert.deepEqual(morph, [{ field: 'firstFrame', message: 'a rehearsal frame', severity: 'warning' }]);
    const batch = await issuesOf(paid, { firstFrame: image, batch: [realFrame, rehearsedFrame, rehearsedFrame], duration: 5 });
    assert.deepEqual(batch, [{ field: 'batch', message: 'a rehearsal frame', severity: 'warning' }], 'once for the batch');
  });

  it('a batch bills every task and probes every image', async () => {
    const v = await checker.check(draft({ firstFrame: image, batch: [image, image], duration: 4 }));
    assert.equal(v.taskCount, 3);
    assert.equal(v.billedSeconds, 12);
    assert.equal(v.batchProbes.length, 2);
  });

  it('a URL is passed through unprobed, for the service to check', async () => {
    const v = await checker.check(draft({ firstFrame: 'https://example.com/cat.png', duration: 5 }));
    assert.deepEqual(v.issues, []);
    assert.equal(v.probes.firstFrame?.isUrl, true);
    assert.equal(v.outputSize, undefined);
  });
});

describe('generation panel: the thumbnail under an input', () => {
  const good: Probe = { source: '/work/good.png', name: 'good.png', isUrl: false, kind: 'image', preview: 'https://file+.vscode-resource/work/good.png', format: 'PNG', width: 800, height: 600 };
  const refused: Probe = { source: '/work/notes.png', name: 'notes.png', isUrl: false, kind: 'image' };

  it('shows the image now in the slot, never the previous one while the new one is checked or once it is refused', () => {
    assert.equal(previewOf(good, '/work/good.png'), good.preview);
    // The slot holds the refused file; the last verdict is still the good image's.
    assert.equal(previewOf(good, '/work/notes.png'), undefined);
    // The refused file's own verdict: no picture to show.
    assert.equal(previewOf(refused, '/work/notes.png'), undefined);
    assert.equal(previewOf(undefined, '/work/notes.png'), undefined);
  });
});

describe("generation panel: the draft's copy on disk", () => {
  it('a copy that cannot replace the file leaves no temporary file behind, and a later copy still lands', async () => {
    const dir = await tempDir('wan-draft-');
    try {
      const file = join(dir, 'generator-draft.json');
      // A folder in the file's place: the rename over it fails, as on a full or read-only disk.
      await mkdir(join(file, 'in-the-way'), { recursive: true });
      const errors: string[] = [];
      const backup = new DraftBackup(dir, (m) => errors.push(m));
      backup.save({ draft: { prompt: 'first' } });
      backup.dispose();
      await backup.settled();
      assert.equal(errors.length, 1);
      assert.deepEqual((await readdir(dir)).sort(), ['generator-draft.json']);

      await rm(file, { recursive: true });
      const again = new DraftBackup(dir, (m) => errors.push(m));
      again.save({ draft: { prompt: 'second' } });
      again.dispose();
      await again.settled();
      assert.deepEqual(await again.load(), { draft: { prompt: 'second' } });
      assert.deepEqual(await readdir(dir), ['generator-draft.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
