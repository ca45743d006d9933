// Structure checks that catch files the service would fail (truncated, cut short, animated), so such a
// task is never created and billed. Real files made by ffmpeg, then cut or patched byte by byte.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { WanValidationError } from '../../src/wan/errors';
import { probeAudio, probeImage, probeVideo, validateDataUriImage, validateLocalMedia, type LocalMediaType } from '../../src/wan/media';
import { ffmpeg, tempDir } from '../support/fixtures';

let dir = '';
const f = (name: string) => join(dir, name);
const read = (name: string) => fsp.readFile(f(name));
const write = (name: string, data: Buffer) => fsp.writeFile(f(name), data);

/** Top-level MP4 boxes: [type, offset, size]. */
function topBoxes(buf: Buffer): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let p = 0; p + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(p);
    out.push([buf.toString('latin1', p + 4, p + 8), p, size]);
    if (size < 8) break;
    p += size;
  }
  return out;
}

async function refused(type: LocalMediaType, name: string, ...expected: RegExp[]): Promise<void> {
  try {
    await validateLocalMedia(type, f(name));
  } catch (e) {
    assert.ok(e instanceof WanValidationError, `expected WanValidationError, got ${String(e)}`);
    assert.ok(e.issues.every((i) => i.field === `input.media[${type}]`), e.message);
    assert.ok(e.message.includes(name), `message should name ${name}: ${e.message}`);
    for (const re of expected) assert.match(e.message, re);
    return;
  }
  assert.fail(`${name} was accepted`);
}

describe('media structure checks', function () {
  this.timeout(120_000);

  before(async function () {
    dir = await tempDir('structure');
    const still = (src: string, out: string, ...extra: string[]) => ffmpeg(['-f', 'lavfi', '-i', src, '-frames:v', '1', ...extra, f(out)]);
    const clip = (out: string, ...extra: string[]) =>
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=24:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...extra, f(out)]);
    const tone = (out: string, ...extra: string[]) => ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', ...extra, f(out)]);
    await Promise.all([
      still('testsrc2=size=640x480', 'good.png'),
      still('testsrc2=size=640x480', 'good.jpg', '-q:v', '3'),
      still('testsrc2=size=641x479', 'good.bmp', '-pix_fmt', 'bgr24'),
      still('testsrc2=size=640x480', 'good.webp', '-c:v', 'libwebp'),
      ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=5:duration=1', '-c:v', 'libwebp', '-loop', '0', f('animated.webp')]),
      clip('good.mp4'),
      clip('faststart.mp4', '-movflags', '+faststart'),
      clip('good.mov'),
      // Fragmented: an empty moov, then a moof+mdat pair per keyframe (one a second here).
      clip('fragmented.mp4', '-g', '24', '-movflags', 'frag_keyframe+empty_moov'),
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=24:duration=4.5', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=4.5',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '48', '-c:a', 'aac',
        '-movflags', 'frag_keyframe+empty_moov', f('fragmented-av.mp4'),
      ]),
      tone('good.wav'),
      tone('good.mp3', '-c:a', 'libmp3lame', '-b:a', '64k'),
    ]);

    const cut = async (from: string, to: string, at: number) => write(to, (await read(from)).subarray(0, at));
    const half = async (from: string, to: string) => cut(from, to, Math.floor((await read(from)).length / 2));

    // PNG: cut in half; cut exactly before IEND (every chunk whole); an IDAT with a wrong CRC.
    await half('good.png', 'half.png');
    const png = await read('good.png');
    await write('no-iend.png', png.subarray(0, png.length - 12));
    const badCrc = Buffer.from(png);
    const idat = badCrc.indexOf('IDAT') - 4;
    badCrc[idat + 8 + 100] = badCrc[idat + 8 + 100]! ^ 0xff;
    await write('bad-crc.png', badCrc);
    // An ancillary chunk with a wrong CRC is discarded by decoders, not fatal.
    const textChunk = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('tEXtA\0abc', 'latin1'), Buffer.from([1, 2, 3, 4])]);
    const withText = Buffer.concat([png.subarray(0, 33), textChunk, png.subarray(33)]);
    await write('bad-text-crc.png', withText);

    // JPEG: cut in half; the EOI marker removed; zero padding after EOI; a trailer after EOI (as in
    // "motion photos", which append a video to the JPEG).
    await half('good.jpg', 'half.jpg');
    const jpg = await read('good.jpg');
    assert.equal(jpg.readUInt16BE(jpg.length - 2), 0xffd9);
    await write('no-eoi.jpg', jpg.subarray(0, jpg.length - 2));
    await write('padded.jpg', Buffer.concat([jpg, Buffer.alloc(4096)]));
    await write('trailer.jpg', Buffer.concat([jpg, await read('good.mp4')]));
    await cut('good.jpg', 'header-only.jpg', jpg.indexOf(Buffer.from([0xff, 0xda])) + 8);

    // BMP and WEBP cut in half.
    await half('good.bmp', 'half.bmp');
    await half('good.webp', 'half.webp');

    // MP4: a fast-start file cut in half (moov whole, mdat short); moov-at-end cut; junk after the last box.
    await half('faststart.mp4', 'faststart-half.mp4');
    await half('good.mp4', 'half.mp4');
    await half('good.mov', 'half.mov');
    await write('junk-after.mp4', Buffer.concat([await read('faststart.mp4'), Buffer.from('this is not a box at all')]));
    // mdat with size 0 ("runs to the end of the file") as the last box, then cut: only the sample
    // tables show that samples are missing.
    const fast = await read('faststart.mp4');
    const mdat = topBoxes(fast).find(([t]) => t === 'mdat');
    assert.ok(mdat && mdat[1] + mdat[2] === fast.length, 'the fast-start fixture ends with its mdat');
    const open = Buffer.from(fast);
    open.writeUInt32BE(0, mdat[1]);
    await write('open-mdat.mp4', open);
    await write('open-mdat-cut.mp4', open.subarray(0, mdat[1] + Math.floor(mdat[2] / 2)));

    // WAV whose data chunk runs past the end; MP3 (with its Xing/Info header) cut in half.
    await half('good.wav', 'half.wav');
    await half('good.mp3', 'half.mp3');
  });

  after(async function () {
    if (dir && !process.env.KEEP_MEDIA) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('accepts whole files of every format', async function () {
    for (const name of ['good.png', 'good.jpg', 'good.bmp', 'good.webp', 'padded.jpg', 'trailer.jpg', 'bad-text-crc.png']) {
      assert.ok((await validateLocalMedia('first_frame', f(name))).width >= 479, name);
    }
    for (const name of ['good.mp4', 'faststart.mp4', 'good.mov', 'open-mdat.mp4']) {
      const v = await validateLocalMedia('first_clip', f(name));
      assert.ok(Math.abs(v.durationSeconds - 3) < 0.1, `${name}: ${v.durationSeconds} s`);
    }
    for (const name of ['good.wav', 'good.mp3']) {
      const a = await validateLocalMedia('driving_audio', f(name));
      assert.ok(Math.abs(a.durationSeconds - 4) < 0.1, `${name}: ${a.durationSeconds} s`);
    }
  });

  describe('images', function () {
    it('refuses a PNG cut in half', async function () {
      await refused('first_frame', 'half.png', /half\.png cannot be read as an image: truncated PNG file/, /IDAT chunk at byte \d/);
    });

    it('refuses a PNG whose chunks are whole but that ends before IEND', async function () {
      await refused('first_frame', 'no-iend.png', /truncated PNG file/, /no IEND chunk/);
    });

    it('refuses a PNG whose image data fails its CRC, and accepts a bad CRC on an ancillary chunk', async function () {
      await refused('last_frame', 'bad-crc.png', /damaged PNG file/, /IDAT chunk at byte \d+ fails its CRC check/);
      assert.ok(await probeImage(f('bad-text-crc.png')));
    });

    it('refuses a JPEG cut in half, one without EOI, and one that ends after its header', async function () {
      await refused('first_frame', 'half.jpg', /truncated JPEG file/, /end-of-image marker/);
      await refused('first_frame', 'no-eoi.jpg', /truncated JPEG file/, /end-of-image marker/);
      await refused('first_frame', 'header-only.jpg', /truncated JPEG file/);
    });

    it('refuses a BMP shorter than its pixel array', async function () {
      await refused('first_frame', 'half.bmp', /truncated BMP file/, /pixel/);
    });

    it('refuses a WEBP cut in half', async function () {
      await refused('first_frame', 'half.webp', /truncated WEBP file/);
    });

    it('refuses an animated WEBP: the API takes still images', async function () {
      const raw = await read('animated.webp');
      assert.ok(raw.includes('ANIM'), 'the fixture should be animated');
      const info = await probeImage(f('animated.webp'));
      assert.equal(info?.animated, true);
      assert.equal((await probeImage(f('good.webp')))?.animated, false);
      await refused('first_frame', 'animated.webp', /animated\.webp is an animated WEBP; the API takes still images/);
    });

    it('applies the same checks to data: URIs', async function () {
      for (const [name, mime, re] of [
        ['half.png', 'image/png', /truncated PNG file/],
        ['no-eoi.jpg', 'image/jpeg', /truncated JPEG file/],
        ['animated.webp', 'image/webp', /animated WEBP/],
      ] as const) {
        const uri = `data:${mime};base64,${(await read(name)).toString('base64')}`;
        await assert.rejects(validateDataUriImage('first_frame', uri), (e: unknown) => {
          assert.ok(e instanceof WanValidationError);
          assert.equal(e.issues[0]?.field, 'input.media[first_frame]');
          assert.match(e.message, re);
          return true;
        });
      }
      const good = `data:image/jpeg;base64,${(await read('padded.jpg')).toString('base64')}`;
      assert.equal((await validateDataUriImage('first_frame', good)).format, 'jpeg');
    });
  });

  describe('video', function () {
    it('refuses a fast-start MP4 cut in half (its moov is whole)', async function () {
      await refused('first_clip', 'faststart-half.mp4', /truncated MP4 file/, /mdat box at byte \d[\d,]* declares [\d,]+ bytes/);
    });

    it('refuses an MP4 and a MOV with the moov at the end, cut in half', async function () {
      await refused('first_clip', 'half.mp4', /truncated MP4 file/, /no moov box/);
      await refused('first_clip', 'half.mov', /truncated MOV file/);
    });

    it('refuses data after the last box', async function () {
      await refused('first_clip', 'junk-after.mp4', /damaged MP4 file/, /24 bytes after the last box/);
    });

    it('refuses a cut file whose last mdat runs "to the end of the file", by its sample tables', async function () {
      await refused('first_clip', 'open-mdat-cut.mp4', /truncated MP4 file/, /samples/);
    });

    it('measures a fragmented MP4 by its fragments (trun sample durations), not as 0 s', async function () {
      const boxes = topBoxes(await read('fragmented.mp4')).map(([t]) => t);
      assert.ok(boxes.filter((t) => t === 'moof').length >= 3, `fixture boxes: ${boxes.join(' ')}`);
      const v = await probeVideo(f('fragmented.mp4'));
      assert.ok(v);
      assert.deepEqual([v.width, v.height, v.hasVideoTrack], [320, 240, true]);
      assert.ok(Math.abs(v.durationSeconds - 3) <= 0.1, `measured ${v.durationSeconds} s`);
      const av = await validateLocalMedia('first_clip', f('fragmented-av.mp4'));
      assert.ok(Math.abs(av.durationSeconds - 4.5) <= 0.1, `measured ${av.durationSeconds} s`);
    });

    it('reads only box headers of a large file: a 100 MB clip is checked in well under a second', async function () {
      // A real clip grown to 100 MB with a large free box: the check must seek, not read.
      const fast = await read('faststart.mp4');
      const freeSize = 100 * 1024 * 1024 - fast.length;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(freeSize, 0);
      header.write('free', 4, 'latin1');
      const fh = await fsp.open(f('big.mp4'), 'w');
      await fh.write(fast, 0, fast.length, 0);
      await fh.write(header, 0, 8, fast.length);
      await fh.truncate(100 * 1024 * 1024);
      await fh.close();
      const t0 = process.hrtime.bigint();
      const v = await probeVideo(f('big.mp4'));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(v && Math.abs(v.durationSeconds - 3) < 0.1);
      assert.ok(ms < 500, `took ${ms.toFixed(1)} ms`);
    });
  });

  describe('audio', function () {
    it('refuses a WAV whose data chunk runs past the end of the file', async function () {
      await refused('driving_audio', 'half.wav', /truncated WAV file/, /data chunk declares [\d,]+ bytes/);
    });

    it('refuses an MP3 shorter than its Xing/Info header says', async function () {
      await refused('driving_audio', 'half.mp3', /truncated MP3 file/);
      assert.ok(await probeAudio(f('good.mp3')));
    });
  });
});
