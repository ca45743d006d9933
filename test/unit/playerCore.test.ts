// The player's core without VS Code: facts from a sidecar or record, the generation panel's prefill, and the
// frame PNG's checks and never-overwriting names. Real files in a temp folder.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { continueArgs, frameArgs, generateAgainArgs, readVideoFacts, sidecarPathOf } from '../../src/player/facts';
import { decodeFramePng, frameFileName, writeFrameBeside } from '../../src/player/frame';
import { sidecarFor, writeSidecar } from '../../src/tasks/sidecar';
import { ffmpeg, tempDir } from '../support/fixtures';
import { record } from '../support/records';

describe('player core', function () {
  let dir = '';
  let png = Buffer.alloc(0);

  before(async function () {
    dir = await tempDir('player-core');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:d=1', '-frames:v', '1', join(dir, 'frame.png')]);
    png = await readFile(join(dir, 'frame.png'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('facts', function () {
    it('reads the sidecar beside the video (same base name, .json)', async function () {
      const video = join(dir, 'cat.mp4');
      assert.equal(sidecarPathOf(video), join(dir, 'cat.json'));
      const r = record({ state: 'succeeded', taskId: 't1', request: { firstFrame: '/a.png', prompt: 'a cat', seed: 9, resolution: '1080P', duration: 5 }, origPrompt: 'A cat, rewritten.' });
      await writeSidecar(join(dir, 'cat.json'), sidecarFor(r, video, 10));
      const got = await readVideoFacts(video);
      assert.equal(got.from, 'sidecar');
      assert.deepEqual([got.facts?.prompt, got.facts?.orig_prompt, got.facts?.seed, got.facts?.parameters?.duration], ['a cat', 'A cat, rewritten.', 9, 5]);
    });

    it('prefers a record passed in; reports why a damaged or foreign sidecar is not used', async function () {
      const video = join(dir, 'cat.mp4');
      const fromRecord = await readVideoFacts(video, record({ request: { firstFrame: '/b.png', prompt: 'from the record' } }));
      assert.deepEqual([fromRecord.from, fromRecord.facts?.prompt], ['record', 'from the record']);

      await writeFile(join(dir, 'broken.json'), '{ not json');
      const broken = await readVideoFacts(join(dir, 'broken.mp4'));
      assert.equal(broken.from, 'none');
      assert.ok(broken.from === 'none' && broken.problem);
      await writeFile(join(dir, 'other.json'), JSON.stringify({ format: 'someone-else/1', prompt: 'x' }));
      const other = await readVideoFacts(join(dir, 'other.mp4'));
      assert.ok(other.from === 'none' && /format/.test(other.problem ?? ''), JSON.stringify(other));
      assert.deepEqual(await readVideoFacts(join(dir, 'nothing.mp4')), { facts: undefined, from: 'none' });
    });

    it('Generate Again keeps every input and setting and picks the mode from the inputs', async function () {
      const base = { format: 'wan-studio.video/1' as const, prompt: 'p', negative_prompt: 'n', seed: 1, parameters: { resolution: '720P', duration: 8, prompt_extend: false, watermark: true } };
      assert.deepEqual(generateAgainArgs({ ...base, media: { first_frame: '/f.png', driving_audio: '/a.mp3' } }, 1), {
        prefill: { firstFrame: '/f.png', drivingAudio: '/a.mp3', prompt: 'p', negativePrompt: 'n', resolution: '720P', duration: 8, promptExtend: false, watermark: true, seed: 1 },
        mode: 'animate',
      });
      assert.equal(generateAgainArgs({ ...base, media: { first_frame: '/f.png', last_frame: '/l.png' } }, 2).mode, 'morph');
      const clip = generateAgainArgs({ ...base, media: { first_clip: '/c.mp4', last_frame: '/l.png' } }, undefined);
      assert.equal(clip.mode, 'continue');
      assert.equal('seed' in (clip.prefill ?? {}), false, 'no seed: the service chooses');
    });

    it('Continue This Video and Use This Frame hand over the file in the right field', function () {
      assert.deepEqual(continueArgs('/v/out.mp4', { format: 'wan-studio.video/1', parameters: { resolution: '1080p' } }), { prefill: { firstClip: '/v/out.mp4', resolution: '1080P' }, mode: 'continue' });
      assert.deepEqual(continueArgs('/v/out.mp4', undefined), { prefill: { firstClip: '/v/out.mp4' }, mode: 'continue' });
      assert.deepEqual(frameArgs('/v/f.png', 'first'), { prefill: { firstFrame: '/v/f.png' }, mode: 'animate' });
      assert.deepEqual(frameArgs('/v/f.png', 'last'), { prefill: { lastFrame: '/v/f.png' }, mode: 'morph' });
    });
  });

  describe('frame', function () {
    const video = { width: 64, height: 48, durationSeconds: 2 };
    /** A PNG's chunks: [type, whole chunk bytes]. */
    const chunks = (buf: Buffer) => {
      const out: [string, Buffer][] = [];
      for (let pos = 8; pos < buf.length; ) {
        const len = buf.readUInt32BE(pos);
        out.push([buf.toString('latin1', pos + 4, pos + 8), buf.subarray(pos, pos + 12 + len)]);
        pos += 12 + len;
      }
      return out;
    };

    it('accepts a real PNG of the claimed size and refuses anything else', async function () {
      const b64 = png.toString('base64');
      assert.equal((await decodeFramePng(b64, 64, 48, video, 1.5)).length, png.length);
      await assert.rejects(decodeFramePng(b64, 48, 64, video, 1), /64x48, not the 48x64/);
      await assert.rejects(decodeFramePng(Buffer.from('GIF89a not a png at all, really not at all').toString('base64'), 64, 48, video, 1), /not a PNG/);
    });

    it('refuses a PNG of another size than the video, even when the page claims that size', async function () {
      await ffmpeg(['-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-vf', 'scale=1:1', '-frames:v', '1', join(dir, 'dot.png')]);
      const dot = (await readFile(join(dir, 'dot.png'))).toString('base64');
      await assert.rejects(decodeFramePng(dot, 1, 1, { width: 816, height: 1104, durationSeconds: 5 }, 1), /1x1, but the video is 816x1104/);
    });

    it('refuses a valid header followed by 39 MB of zeros, bytes after IEND, and image data of another size', async function () {
      const zeros = Buffer.concat([png.subarray(0, 33), Buffer.alloc(39 * 1024 * 1024)]);
      await assert.rejects(decodeFramePng(zeros.toString('base64'), 64, 48, video, 1), /not a valid PNG/);
      const trailing = Buffer.concat([png, Buffer.alloc(1024)]);
      await assert.rejects(decodeFramePng(trailing.toString('base64'), 64, 48, video, 1), /1,?024 bytes after the end/);
      // IHDR says 64x48, the (CRC-valid) image data is of a 32x24 picture.
      await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=32x24:d=1', '-frames:v', '1', join(dir, 'small.png')]);
      const small = await readFile(join(dir, 'small.png'));
      const big = chunks(png);
      const forged = Buffer.concat([
        png.subarray(0, 8),
        ...big.filter(([t]) => t !== 'IDAT' && t !== 'IEND').map(([, c]) => c),
        ...chunks(small).filter(([t]) => t === 'IDAT' || t === 'IEND').map(([, c]) => c),
      ]);
      await assert.rejects(decodeFramePng(forged.toString('base64'), 64, 48, video, 1), /does not decode to the 64x48 image/);
    });

    it('refuses a time outside the video (1e300 s would name the file …-frame-1.67e+298m…)', async function () {
      const b64 = png.toString('base64');
      await assert.rejects(decodeFramePng(b64, 64, 48, video, 1e300), /not inside the video/);
      await assert.rejects(decodeFramePng(b64, 64, 48, video, 2.5), /not inside the video/);
      assert.equal((await decodeFramePng(b64, 64, 48, video, 2)).length, png.length, 'the very end is a frame of the video');
    });

    it('names the file after the video and the playhead, and never overwrites', async function () {
      assert.equal(frameFileName('/v/clip.mp4', 3.25), 'clip-frame-00m03s250.png');
      assert.equal(frameFileName('/v/clip.mp4', 75.0004, 2), 'clip-frame-01m15s000-3.png');
      const sub = join(dir, 'frames');
      await mkdir(sub);
      const video = join(sub, 'clip.mp4');
      await writeFile(join(sub, 'clip-frame-00m01s000.png'), 'keep');
      const a = await writeFrameBeside(video, 1, png);
      const b = await writeFrameBeside(video, 1, png);
      assert.deepEqual([a, b], [join(sub, 'clip-frame-00m01s000-2.png'), join(sub, 'clip-frame-00m01s000-3.png')]);
      assert.equal(await readFile(join(sub, 'clip-frame-00m01s000.png'), 'utf8'), 'keep');
      assert.deepEqual((await readFile(a)).equals(png), true);
      assert.equal((await readdir(sub)).length, 3);
    });
  });
});
