// JPEG EXIF orientation: the displayed size (a quarter turn swaps width and height) drives the output
// size estimate, and the emulator renders the image the way it is displayed.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { runFfmpeg } from '../../src/ffmpeg/ffmpeg';
import { CREATE_PATH, startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { MODEL } from '../../src/wan/limits';
import { probeImage, readImageAsDataUri } from '../../src/wan/media';
import { prepareRequest } from '../../src/wan/request';
import { estimateOutputSize } from '../../src/wan/sizing';
import { ffmpeg, tempDir } from '../support/fixtures';

/** An APP1 Exif segment whose IFD0 holds one entry: Orientation (0x0112, SHORT) = `value`. */
function exifSegment(value: number, order: 'II' | 'MM'): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const le = order === 'II';
  const u16 = (v: number, o: number) => (le ? tiff.writeUInt16LE(v, o) : tiff.writeUInt16BE(v, o));
  const u32 = (v: number, o: number) => (le ? tiff.writeUInt32LE(v, o) : tiff.writeUInt32BE(v, o));
  tiff.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10);
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(value, 18); // a SHORT value sits in the first 2 bytes of the value field
  u32(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The JPEG with an Exif segment inserted right after SOI. */
const withOrientation = (jpg: Buffer, value: number, order: 'II' | 'MM' = 'II') =>
  Buffer.concat([jpg.subarray(0, 2), exifSegment(value, order), jpg.subarray(2)]);

describe('JPEG EXIF orientation', function () {
  this.timeout(90_000);
  let dir = '';
  const f = (n: string) => join(dir, n);
  let stored: Buffer;

  before(async function () {
    dir = await tempDir('orientation');
    // Stored 1000x750: left half red, right half blue. Orientation 6 (turn 90° clockwise to display)
    // shows it 750x1000 with red on top.
    await ffmpeg([
      '-f', 'lavfi', '-i', 'color=c=red:s=1000x750,drawbox=x=500:y=0:w=500:h=750:color=blue:t=fill',
      '-frames:v', '1', '-q:v', '2', f('stored.jpg'),
    ]);
    stored = await fsp.readFile(f('stored.jpg'));
    await fsp.writeFile(f('turned6.jpg'), withOrientation(stored, 6));
    await fsp.writeFile(f('turned6-mm.jpg'), withOrientation(stored, 6, 'MM'));
    await fsp.writeFile(f('turned8.jpg'), withOrientation(stored, 8, 'MM'));
    await fsp.writeFile(f('upside3.jpg'), withOrientation(stored, 3));
  });
  after(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('reports the displayed size: orientations 6 and 8 swap width and height, 3 does not', async function () {
    assert.deepEqual(await probeImage(f('stored.jpg')).then((i) => [i?.width, i?.height, i?.orientation]), [1000, 750, 1]);
    for (const [name, o] of [['turned6.jpg', 6], ['turned6-mm.jpg', 6], ['turned8.jpg', 8]] as const) {
      const info = await probeImage(f(name));
      assert.deepEqual([info?.width, info?.height, info?.orientation], [750, 1000, o], name);
    }
    assert.deepEqual(await probeImage(f('upside3.jpg')).then((i) => [i?.width, i?.height, i?.orientation]), [1000, 750, 3]);
  });

  it('estimates the output size from the displayed size', async function () {
    const prepared = await prepareRequest({ firstFrame: f('turned6.jpg'), resolution: '720P', duration: 2 }, () => assert.fail('no upload'));
    // The FAQ's example: a 750x1000 input gives 816x1104 at 720P.
    assert.deepEqual(prepared.outputSize, { width: 816, height: 1104 });
    assert.deepEqual(estimateOutputSize({ width: 1000, height: 750 }, '720P'), { width: 1104, height: 816 });
  });

  describe('in the emulator', function () {
    let emu: RunningEmulator;
    before(async () => {
      emu = await startEmulator({ pendingMs: 0, runningMs: 0, apiKeys: ['sk-orientation'] });
    });
    after(async () => emu?.close());

    it('renders the image as displayed: portrait, red on top', async function () {
      const { dataUri } = await readImageAsDataUri(f('turned6.jpg'));
      const headers = { authorization: 'Bearer sk-orientation', 'content-type': 'application/json', 'x-dashscope-async': 'enable' };
      const body = { model: MODEL, input: { media: [{ type: 'first_frame', url: dataUri }] }, parameters: { resolution: '720P', duration: 2 } };
      const created = (await (await fetch(emu.url + CREATE_PATH, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { output: { task_id: string } };
      let task: { output: { task_status: string; video_url?: string; message?: string } };
      const deadline = Date.now() + 60_000;
      do {
        await new Promise((r) => setTimeout(r, 100));
        task = (await (await fetch(`${emu.url}/api/v1/tasks/${created.output.task_id}`, { headers })).json()) as typeof task;
      } while (['PENDING', 'RUNNING'].includes(task.output.task_status) && Date.now() < deadline);
      assert.equal(task.output.task_status, 'SUCCEEDED', task.output.message);
      await fsp.writeFile(f('result.mp4'), Buffer.from(await (await fetch(task.output.video_url!)).arrayBuffer()));
      // The first frame as raw RGB: 816x1104, red in the upper half and blue in the lower half.
      const { code, stderr } = await runFfmpeg(['-y', '-loglevel', 'error', '-i', f('result.mp4'), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', f('frame.rgb')]);
      assert.equal(code, 0, stderr);
      const rgb = await fsp.readFile(f('frame.rgb'));
      const [W, H] = [816, 1104];
      assert.equal(rgb.length, W * H * 3, 'the video is 816x1104');
      const pixel = (x: number, y: number) => [...rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
      const [top, bottom] = [pixel(W / 2, Math.round(H * 0.3)), pixel(W / 2, Math.round(H * 0.8))];
      assert.ok(top[0]! > 180 && top[2]! < 90, `upper half should be red, got ${top.join(',')}`);
      assert.ok(bottom[2]! > 180 && bottom[0]! < 90, `lower half should be blue, got ${bottom.join(',')}`);
    });
  });
});
