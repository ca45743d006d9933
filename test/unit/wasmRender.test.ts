// The emulator's WebAssembly ffmpeg path (the one the VSIX uses, since it ships no native binary), forced
// with WAN_FFMPEG=wasm: the same render as the native binary (H.264 + AAC, the REHEARSAL label drawn with
// drawtext), decode checks, and media inspection. Results are checked with the native binary.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProblem, ffmpegBackend, inspectMedia, nativeFfmpegPath, runFfmpeg } from '../../src/ffmpeg/ffmpeg';
import { findFont, REHEARSAL_COMMENT, renderVideo, type RenderJob } from '../../src/emulator/render';
import { estimateOutputSize } from '../../src/wan/sizing';
import { makeInputSet, tempDir } from '../support/fixtures';

/** Runs `fn` with WAN_FFMPEG set to `backend`, restoring the previous value after. */
async function withBackend<T>(backend: 'wasm' | 'native', fn: () => Promise<T>): Promise<T> {
  const before = process.env.WAN_FFMPEG;
  process.env.WAN_FFMPEG = backend;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.WAN_FFMPEG;
    else process.env.WAN_FFMPEG = before;
  }
}

/** The label corner of frame `frame` as 8-bit grey pixels, decoded by the native binary. */
async function labelCorner(path: string, frame: number, w: number, h: number): Promise<Buffer> {
  const raw = `${path}.${frame}.gray`;
  const { code, stderr } = await runFfmpeg([
    '-v', 'error', '-i', path, '-vf', `select=eq(n\\,${frame}),crop=${w}:${h}:0:0,format=gray`, '-frames:v', '1', '-f', 'rawvideo', '-y', raw,
  ]);
  assert.equal(code, 0, stderr);
  return readFile(raw);
}

describe('emulator render with the WebAssembly ffmpeg', function () {
  this.timeout(240_000);
  let dir: string;
  let inputs: Awaited<ReturnType<typeof makeInputSet>>;

  before(async () => {
    dir = await tempDir('wasm-render');
    inputs = await makeInputSet(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('chooses native when its binary is installed, and honours WAN_FFMPEG', async () => {
    assert.ok(nativeFfmpegPath(), 'the development install has the native binary');
    const before = process.env.WAN_FFMPEG;
    delete process.env.WAN_FFMPEG;
    try {
      assert.equal(ffmpegBackend(), 'native');
    } finally {
      if (before !== undefined) process.env.WAN_FFMPEG = before;
    }
    assert.equal(await withBackend('wasm', async () => ffmpegBackend()), 'wasm');
  });

  // 2 s, not 5: the same filter graph and options (first + last frame cross-fade, driving audio padded and cut to
  // the duration, label, watermark, comment) at 48 frames instead of 120: the WebAssembly encode was the unit
  // suite's slowest test.
  it('renders the same 720P rehearsal as the native binary (2 s, the shortest the API allows): H.264, AAC, label, watermark, comment', async () => {
    const size = estimateOutputSize({ width: 750, height: 1000 }, '720P');
    const job = (outPath: string): RenderJob => ({
      outPath,
      ...size,
      durationSeconds: 2,
      firstFrame: inputs.firstFrame,
      lastFrame: inputs.lastFrame,
      drivingAudio: inputs.audio,
      watermark: true,
    });
    const wasmOut = join(dir, 'wasm.mp4');
    const nativeOut = join(dir, 'native.mp4');
    const wasm = await withBackend('wasm', () => renderVideo(job(wasmOut)));
    const native = await withBackend('native', () => renderVideo(job(nativeOut)));
    console.log(`      2 s ${size.width}x${size.height} render: wasm ${wasm.elapsedMs} ms, native ${native.elapsedMs} ms`);
    assert.equal(wasm.frames, 48);

    const info = await withBackend('native', () => inspectMedia(wasmOut));
    assert.equal(info.video?.codec, 'h264');
    assert.equal(info.video?.width, size.width);
    assert.equal(info.video?.height, size.height);
    assert.equal(info.video?.fps, 24);
    assert.equal(info.audio?.codec, 'aac');
    assert.ok(Math.abs((info.durationSeconds ?? 0) - 2) < 0.1, `duration ${info.durationSeconds}`);
    assert.equal(info.comment, REHEARSAL_COMMENT);

    // The label corner: the wasm frame matches the native one (same font, same drawtext), and it differs
    // from the bare input there, so the label is really drawn.
    assert.ok(findFont(), 'a TrueType font for the label is installed on this machine');
    const cw = 360;
    const ch = 80;
    const [a, b] = await Promise.all([labelCorner(wasmOut, 2, cw, ch), labelCorner(nativeOut, 2, cw, ch)]);
    assert.equal(a.length, cw * ch);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
    assert.ok(diff / a.length < 4, `wasm and native label corners differ by ${(diff / a.length).toFixed(2)} per pixel`);
    const bright = [...a].filter((v) => v > 220).length;
    const dark = [...a].filter((v) => v < 70).length;
    assert.ok(bright > 200, `white label text pixels: ${bright}`);
    assert.ok(dark > 2000, `dark label box pixels: ${dark}`);
  });

  it('finds decode problems and reads media facts through the same backend', async () => {
    await withBackend('wasm', async () => {
      assert.equal(await decodeProblem(inputs.firstFrame, 'video'), undefined);
      assert.equal(await decodeProblem(inputs.audio, 'audio'), undefined);
      const broken = join(dir, 'broken.png');
      await writeFile(broken, Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(300, 7)]));
      assert.match((await decodeProblem(broken, 'video')) ?? '', /\S/);
      const clip = await inspectMedia(inputs.clip);
      assert.equal(clip.video?.codec, 'h264');
      assert.equal(clip.video?.width, 480);
      assert.ok(Math.abs((clip.durationSeconds ?? 0) - 3) < 0.1);
    });
  });
});
