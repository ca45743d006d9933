// The sound preview maker, on real files: WebAssembly ffmpeg converts, the project's own MP4 probe checks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { makeAudioPreview, PreviewError, previewKey } from '../../src/preview/audioPreview';
import { probeVideo } from '../../src/wan/media/video';
import { ffmpeg, makeVideo, tempDir } from '../support/fixtures';

const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/** The H.264 elementary stream of a file, extracted without decoding (to compare video streams bit for bit). */
async function videoStreamHash(file: string, dir: string): Promise<string> {
  const out = join(dir, `${createHash('md5').update(file).digest('hex')}.h264`);
  await ffmpeg(['-i', file, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', out]);
  const h = await sha(out);
  await rm(out);
  return h;
}

describe('audio preview (MP3 sound for desktop webviews)', function () {
  this.timeout(120_000);
  let dir = '';
  let cache = '';
  let original = '';

  before(async function () {
    dir = await tempDir('preview');
    cache = join(dir, 'cache');
    original = join(dir, 'result.mp4');
    // Like a Wan result: H.264 video with an AAC track, 4 s at 1280x720.
    await ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=24:d=4', '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=44100:duration=4',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-shortest', original,
    ]);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes a copy with MP3 audio of the same duration and the very same video stream, leaving the original untouched', async function () {
    const before = await sha(original);
    const src = await probeVideo(original);
    assert.equal(src?.audio?.codec, 'aac', 'the fixture should carry AAC');

    const preview = await makeAudioPreview({ file: original, cacheDir: cache });
    assert.equal(preview.cached, false);
    assert.equal(preview.sourceCodec, 'aac');
    assert.ok(preview.path.startsWith(cache), `preview outside the cache: ${preview.path}`);
    assert.equal((await stat(preview.path)).size, preview.bytes);

    const out = await probeVideo(preview.path);
    assert.ok(out?.audio, 'the preview has no audio track');
    assert.equal(out.audio.codec, 'mp3');
    assert.deepEqual([out.width, out.height, out.hasVideoTrack], [1280, 720, true]);
    assert.ok(Math.abs(out.durationSeconds - src.durationSeconds) < 0.1, `duration ${out.durationSeconds} vs ${src.durationSeconds}`);
    assert.ok(Math.abs(out.audio.durationSeconds - 4) < 0.15, `audio duration ${out.audio.durationSeconds}`);

    assert.equal(await videoStreamHash(preview.path, dir), await videoStreamHash(original, dir), 'the video stream was re-encoded');
    assert.equal(await sha(original), before, 'the original changed');
    assert.deepEqual((await readdir(dir)).sort(), ['cache', 'result.mp4'], 'something was written beside the original');
  });

  it('reuses the preview for the same path, size and mtime, and makes a new one when the file changes', async function () {
    const first = await makeAudioPreview({ file: original, cacheDir: cache });
    const again = await makeAudioPreview({ file: original, cacheDir: cache });
    assert.equal(again.cached, true);
    assert.equal(again.path, first.path);

    const st = await stat(original);
    const later = new Date(st.mtimeMs + 60_000);
    await utimes(original, later, later);
    const changed = await makeAudioPreview({ file: original, cacheDir: cache });
    assert.equal(changed.cached, false);
    assert.notEqual(changed.path, first.path);
    assert.equal(previewKey(original, st.size, later.getTime()), changed.path.slice(-36, -4));
  });

  it('two players asking at once share one conversion', async function () {
    const st = await stat(original);
    const later = new Date(st.mtimeMs + 120_000);
    await utimes(original, later, later);
    const [a, b] = await Promise.all([makeAudioPreview({ file: original, cacheDir: cache }), makeAudioPreview({ file: original, cacheDir: cache })]);
    assert.strictEqual(a, b);
    assert.equal((await readdir(cache)).filter((n) => n.includes('.partial.')).length, 0, 'a partial file was left behind');
  });

  it('refuses a video without an audio track, and a file that is not a video, with a reason', async function () {
    const silent = await makeVideo(join(dir, 'silent.mp4'), 2);
    await assert.rejects(makeAudioPreview({ file: silent, cacheDir: cache }), (e: unknown) => e instanceof PreviewError && e.reason === 'no-audio');
    const text = join(dir, 'notes.mp4');
    await (await import('node:fs/promises')).writeFile(text, 'not a video at all');
    await assert.rejects(makeAudioPreview({ file: text, cacheDir: cache }), (e: unknown) => e instanceof PreviewError && e.reason === 'not-a-video');
    await rm(silent);
    await rm(text);
  });
});
