// Local media probing and validation, against real files made by ffmpeg at test time.
// (ffmpeg is used by the tests only; the probes themselves are pure TypeScript.)
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WanValidationError } from '../../src/wan/errors';
import {
  imageToDataUri,
  probeAudio,
  probeImage,
  probeVideo,
  validateLocalMedia,
  type LocalMediaType,
} from '../../src/wan/media';
import { ffmpeg as runFfmpegQuietly } from '../support/fixtures';

let dir = '';
const GB5 = 5 * 1024 * 1024 * 1024;
const f = (name: string) => join(dir, name);

const ffmpeg = (...args: string[]) => runFfmpegQuietly(args);

/** Lavfi video source of one frame. */
const still = (src: string, out: string, ...extra: string[]) =>
  ffmpeg('-f', 'lavfi', '-i', src, '-frames:v', '1', ...extra, f(out));
const tone = (seconds: number, out: string, ...extra: string[]) =>
  ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`, ...extra, f(out));
const clip = (seconds: number, size: string, out: string, ...extra: string[]) =>
  ffmpeg(
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...extra, f(out),
  );

/** Runs fn and returns the WanValidationError it throws (fails if it does not). */
async function refusal(fn: () => Promise<unknown>): Promise<WanValidationError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof WanValidationError, `expected WanValidationError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a WanValidationError');
}

async function refused(type: LocalMediaType, name: string, ...expected: (string | RegExp)[]): Promise<WanValidationError> {
  const err = await refusal(() => validateLocalMedia(type, f(name)));
  for (const issue of err.issues) assert.equal(issue.field, `input.media[${type}]`);
  assert.ok(err.message.includes(`input.media[${type}]`), err.message);
  assert.ok(err.message.includes(name), `message should name ${name}: ${err.message}`);
  for (const e of expected) {
    if (typeof e === 'string') assert.ok(err.message.includes(e), `expected "${e}" in: ${err.message}`);
    else assert.match(err.message, e);
  }
  return err;
}

function near(actual: number, expected: number, tol: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ±${tol} of ${expected}`);
}

describe('media probing and validation', function () {
  this.timeout(120_000);

  before(async function () {
    dir = await fsp.mkdtemp(join(tmpdir(), 'wan-media-'));
    const rgbaRed = 'color=c=red@0.5:size=320x240,format=rgba';
    const jobs: Promise<unknown>[] = [
      // Images
      still('testsrc=size=320x240', 'rgb.png'),
      still(rgbaRed, 'rgba.png'),
      ffmpeg(
        '-f', 'lavfi', '-i', 'testsrc=size=320x240:duration=0.1',
        '-vf', "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,100),0,255)',split[a][b];[a]palettegen=reserve_transparent=1[p];[b][p]paletteuse=alpha_threshold=128",
        '-frames:v', '1', f('palette.png'),
      ),
      still('testsrc=size=320x240', 'palette-opaque.png', '-pix_fmt', 'pal8'),
      still('testsrc=size=640x480', 'baseline.jpg', '-q:v', '4'),
      still('testsrc=size=321x241', 'picture.bmp', '-pix_fmt', 'bgr24'),
      still('testsrc=size=400x300', 'lossy.webp', '-c:v', 'libwebp', '-lossless', '0'),
      still('testsrc=size=401x299', 'lossless.webp', '-c:v', 'libwebp', '-lossless', '1'),
      still('color=c=blue@0.5:size=300x400,format=rgba', 'alpha-lossy.webp', '-c:v', 'libwebp', '-lossless', '0'),
      still('color=c=blue@0.5:size=300x400,format=rgba', 'alpha-lossless.webp', '-c:v', 'libwebp', '-lossless', '1'),
      still('testsrc=size=200x300', 'small.png'),
      still('testsrc=size=2000x240', 'wide.png'),
      still('testsrc=size=200x2000', 'tall-thin.png'),
      still('testsrc=size=320x240', 'anim.gif'),
      fsp.writeFile(join(dir, 'notes.png'), 'This is not an image, whatever its name says.\n'),
      // Audio
      tone(3, 'tone3.wav'),
      tone(3, 'tone3-24bit.wav', '-ac', '2', '-c:a', 'pcm_s24le'),
      tone(3, 'cbr3.mp3', '-c:a', 'libmp3lame', '-b:a', '128k', '-metadata', 'title=CBR test'),
      tone(5, 'vbr5.mp3', '-c:a', 'libmp3lame', '-q:a', '4'),
      tone(5, 'vbr5-noxing.mp3', '-c:a', 'libmp3lame', '-q:a', '4', '-write_xing', '0'),
      tone(4, 'mpeg2.mp3', '-c:a', 'libmp3lame', '-ar', '22050', '-b:a', '32k', '-write_xing', '0', '-id3v2_version', '0'),
      tone(1, 'short1.wav'),
      tone(31, 'long31.mp3', '-c:a', 'libmp3lame', '-b:a', '32k', '-ac', '1'),
      // Video
      clip(3, '320x240', 'clip3.mp4'),
      clip(3, '320x240', 'clip3-faststart.mp4', '-movflags', '+faststart'),
      clip(2.5, '320x240', 'clip2_5.mov'),
      // This ffmpeg drops rotate metadata when encoding, but writes the tkhd matrix on a stream copy.
      clip(3, '320x240', 'unrotated.mp4').then(() =>
        ffmpeg('-i', f('unrotated.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f('rotated.mp4')),
      ),
      clip(12, '320x240', 'long12.mp4'),
      clip(3, '200x200', 'square200.mp4'),
      tone(3, 'audio-only.m4a', '-c:a', 'aac'),
    ];
    await Promise.all(jobs);

    // ffmpeg's MJPEG encoder writes baseline only; a progressive header is the same stream with SOF2
    // instead of SOF0, preceded here by a 40 KB APP1 segment so the marker scan crosses read windows.
    const jpg = await fsp.readFile(f('baseline.jpg'));
    const sof0 = jpg.indexOf(Buffer.from([0xff, 0xc0]));
    assert.ok(sof0 > 0);
    const prog = Buffer.from(jpg);
    prog[sof0 + 1] = 0xc2;
    const app1 = Buffer.alloc(4 + 40_000, 0x20);
    app1.writeUInt16BE(0xffe1, 0);
    app1.writeUInt16BE(2 + 40_000, 2);
    Buffer.from('Exif\0\0').copy(app1, 4);
    await fsp.writeFile(f('progressive.jpg'), Buffer.concat([prog.subarray(0, 2), app1, prog.subarray(2)]));

    // A top-down BMP: same file with a negative height.
    const bmp = await fsp.readFile(f('picture.bmp'));
    const topDown = Buffer.from(bmp);
    topDown.writeInt32LE(-bmp.readInt32LE(22), 22);
    await fsp.writeFile(f('top-down.bmp'), topDown);

    // Oversized files: real headers followed by sparse zeros (probes only read headers).
    await fsp.copyFile(f('rgb.png'), f('huge.png'));
    await fsp.truncate(f('huge.png'), 21 * 1024 * 1024);
    await fsp.copyFile(f('clip3-faststart.mp4'), f('huge.mp4'));
    await fsp.truncate(f('huge.mp4'), Math.round(131.2 * 1024 * 1024));
    await fsp.copyFile(f('tone3.wav'), f('big.wav'));
    await fsp.truncate(f('big.wav'), 16 * 1024 * 1024); // data chunk size stays 3 s worth
    // moov after a 5 GB mdat with a 64-bit largesize (sparse): proves the probe seeks rather than reads.
    const fast = await fsp.readFile(f('clip3-faststart.mp4'));
    const top = new Map<string, Buffer>();
    for (let p = 0; p + 8 <= fast.length; ) {
      const size = fast.readUInt32BE(p);
      top.set(fast.toString('latin1', p + 4, p + 8), fast.subarray(p, p + size));
      p += size;
    }
    const ftyp = top.get('ftyp');
    const moov = top.get('moov');
    assert.ok(ftyp && moov);
    const mdatHeader = Buffer.alloc(16);
    mdatHeader.writeUInt32BE(1, 0);
    mdatHeader.write('mdat', 4, 'latin1');
    mdatHeader.writeBigUInt64BE(BigInt(16 + GB5), 8);
    const fh = await fsp.open(f('largesize.mp4'), 'w');
    await fh.write(Buffer.concat([ftyp, mdatHeader]), 0, undefined, 0);
    await fh.write(moov, 0, undefined, ftyp.length + 16 + GB5);
    await fh.close();
    // Damaged files: cut short after their first bytes.
    await fsp.writeFile(f('cut.png'), (await fsp.readFile(f('rgb.png'))).subarray(0, 20));
    await fsp.writeFile(f('cut.mp4'), (await fsp.readFile(f('clip3.mp4'))).subarray(0, 4000));
    // A PNG saved with a .jpg name, and a folder.
    await fsp.copyFile(f('rgb.png'), f('really-a-png.jpg'));
    await fsp.mkdir(f('folder.png'));
  });

  after(async function () {
    if (dir && !process.env.KEEP_MEDIA) await fsp.rm(dir, { recursive: true, force: true });
  });

  describe('probeImage', function () {
    const cases: [string, string, number, number, boolean][] = [
      ['rgb.png', 'png', 320, 240, false],
      ['rgba.png', 'png', 320, 240, true],
      ['palette.png', 'png', 320, 240, true],
      ['palette-opaque.png', 'png', 320, 240, false],
      ['baseline.jpg', 'jpeg', 640, 480, false],
      ['progressive.jpg', 'jpeg', 640, 480, false],
      ['picture.bmp', 'bmp', 321, 241, false],
      ['top-down.bmp', 'bmp', 321, 241, false],
      ['lossy.webp', 'webp', 400, 300, false],
      ['lossless.webp', 'webp', 401, 299, false],
      ['alpha-lossy.webp', 'webp', 300, 400, true],
      ['alpha-lossless.webp', 'webp', 300, 400, true],
      ['really-a-png.jpg', 'png', 320, 240, false],
    ];
    for (const [name, format, width, height, hasAlpha] of cases) {
      it(`${name}: ${format} ${width}x${height}${hasAlpha ? ' with alpha' : ''}`, async function () {
        const info = await probeImage(f(name));
        assert.ok(info);
        const { size } = await fsp.stat(f(name));
        assert.deepEqual(info, { format, mime: `image/${format}`, width, height, bytes: size, hasAlpha, animated: false, orientation: 1 });
      });
    }

    it('probes a Buffer the same way as a path', async function () {
      const buf = await fsp.readFile(f('lossy.webp'));
      assert.deepEqual(await probeImage(buf), await probeImage(f('lossy.webp')));
    });

    it('returns null for GIF, text and empty data', async function () {
      assert.equal(await probeImage(f('anim.gif')), null);
      assert.equal(await probeImage(f('notes.png')), null);
      assert.equal(await probeImage(Buffer.alloc(0)), null);
    });
  });

  describe('probeAudio', function () {
    it('WAV 3 s (PCM)', async function () {
      const a = await probeAudio(f('tone3.wav'));
      assert.ok(a);
      assert.equal(a.format, 'wav');
      assert.equal(a.sampleRate, 44100);
      assert.equal(a.channels, 1);
      near(a.durationSeconds, 3, 0.01, 'duration');
    });

    it('WAV 3 s, 24-bit stereo (WAVE_FORMAT_EXTENSIBLE)', async function () {
      const raw = await fsp.readFile(f('tone3-24bit.wav'));
      assert.equal(raw.readUInt16LE(raw.indexOf('fmt ') + 8), 0xfffe, 'fixture should be WAVE_FORMAT_EXTENSIBLE');
      const a = await probeAudio(f('tone3-24bit.wav'));
      assert.ok(a);
      assert.equal(a.channels, 2);
      near(a.durationSeconds, 3, 0.01, 'duration');
    });

    it('MP3 CBR 3 s with an ID3v2 tag and an Info header', async function () {
      const raw = await fsp.readFile(f('cbr3.mp3'));
      assert.equal(raw.toString('latin1', 0, 3), 'ID3');
      const a = await probeAudio(f('cbr3.mp3'));
      assert.ok(a);
      assert.deepEqual([a.format, a.sampleRate, a.channels], ['mp3', 44100, 1]);
      near(a.durationSeconds, 3, 0.1, 'duration');
    });

    it('MP3 VBR 5 s with a Xing header', async function () {
      const a = await probeAudio(f('vbr5.mp3'));
      assert.ok(a);
      assert.equal(a.format, 'mp3');
      near(a.durationSeconds, 5, 0.1, 'duration');
    });

    it('MP3 VBR 5 s without a Xing header (every frame scanned)', async function () {
      const raw = await fsp.readFile(f('vbr5-noxing.mp3'));
      assert.equal(raw.indexOf('Xing'), -1);
      assert.equal(raw.indexOf('Info'), -1);
      const a = await probeAudio(f('vbr5-noxing.mp3'));
      assert.ok(a);
      near(a.durationSeconds, 5, 0.1, 'duration');
    });

    it('MPEG-2 Layer III at 22.05 kHz, no tags, no Xing', async function () {
      const a = await probeAudio(f('mpeg2.mp3'));
      assert.ok(a);
      assert.equal(a.sampleRate, 22050);
      near(a.durationSeconds, 4, 0.1, 'duration');
    });

    it('returns null for non-audio data', async function () {
      assert.equal(await probeAudio(f('rgb.png')), null);
      assert.equal(await probeAudio(f('notes.png')), null);
    });
  });

  describe('probeVideo', function () {
    it('MP4 H.264 3 s 320x240, moov at the end', async function () {
      const raw = await fsp.readFile(f('clip3.mp4'));
      assert.ok(raw.indexOf('moov') > raw.indexOf('mdat'), 'fixture should have moov after mdat');
      const v = await probeVideo(f('clip3.mp4'));
      assert.ok(v);
      assert.deepEqual([v.format, v.width, v.height, v.hasVideoTrack, v.bytes], ['mp4', 320, 240, true, raw.length]);
      near(v.durationSeconds, 3, 0.05, 'duration');
    });

    it('MP4 with +faststart (moov first) gives the same answer', async function () {
      const raw = await fsp.readFile(f('clip3-faststart.mp4'));
      assert.ok(raw.indexOf('moov') < raw.indexOf('mdat'), 'fixture should have moov before mdat');
      const a = await probeVideo(f('clip3.mp4'));
      const b = await probeVideo(f('clip3-faststart.mp4'));
      assert.ok(a && b);
      assert.deepEqual({ ...b, bytes: 0 }, { ...a, bytes: 0 });
    });

    it('MOV 2.5 s (brand "qt  ")', async function () {
      const v = await probeVideo(f('clip2_5.mov'));
      assert.ok(v);
      assert.deepEqual([v.format, v.width, v.height], ['mov', 320, 240]);
      near(v.durationSeconds, 2.5, 0.05, 'duration');
    });

    it('applies a 90 degree display matrix (320x240 stored, 240x320 displayed)', async function () {
      const raw = await fsp.readFile(f('rotated.mp4'));
      const tkhd = raw.indexOf('tkhd') + 4; // version 0 payload: matrix b at 44, stored width at 76
      assert.notEqual(raw.readInt32BE(tkhd + 44), 0, 'fixture should carry a rotation matrix');
      assert.equal(raw.readUInt32BE(tkhd + 76) / 65536, 320);
      const v = await probeVideo(f('rotated.mp4'));
      assert.ok(v);
      assert.deepEqual([v.width, v.height], [240, 320]);
    });

    it('reports an audio-only MP4 as having no video track', async function () {
      const v = await probeVideo(f('audio-only.m4a'));
      assert.ok(v);
      assert.equal(v.hasVideoTrack, false);
      near(v.durationSeconds, 3, 0.1, 'duration');
    });

    it('seeks past a 5 GB mdat with a 64-bit size to a moov at the end', async function () {
      const v = await probeVideo(f('largesize.mp4'));
      assert.ok(v);
      assert.deepEqual([v.width, v.height, v.bytes > GB5], [320, 240, true]);
      near(v.durationSeconds, 3, 0.05, 'duration');
    });

    it('returns null for non-video data', async function () {
      assert.equal(await probeVideo(f('rgb.png')), null);
      assert.equal(await probeVideo(f('notes.png')), null);
    });
  });

  describe('validateLocalMedia', function () {
    it('accepts good images, audio and video and returns the probe result', async function () {
      for (const name of ['rgb.png', 'palette-opaque.png', 'baseline.jpg', 'progressive.jpg', 'picture.bmp', 'lossy.webp', 'lossless.webp']) {
        const info = await validateLocalMedia('first_frame', f(name));
        assert.ok(info.width > 0, name);
      }
      assert.equal((await validateLocalMedia('last_frame', f('lossy.webp'))).format, 'webp');
      assert.equal((await validateLocalMedia('driving_audio', f('vbr5.mp3'))).format, 'mp3');
      assert.equal((await validateLocalMedia('driving_audio', f('tone3.wav'))).format, 'wav');
      assert.equal((await validateLocalMedia('first_clip', f('clip3.mp4'))).format, 'mp4');
      assert.equal((await validateLocalMedia('first_clip', f('clip2_5.mov'))).format, 'mov');
      assert.equal((await validateLocalMedia('first_clip', f('rotated.mp4'))).height, 320);
    });

    it('accepts a WEBP with alpha (only PNG alpha is documented as refused) and reports hasAlpha', async function () {
      const info = await validateLocalMedia('first_frame', f('alpha-lossy.webp'));
      assert.equal(info.hasAlpha, true);
    });

    it('refuses a PNG with an alpha channel', async function () {
      await refused('first_frame', 'rgba.png', 'alpha channel', 'refuses PNGs with alpha');
    });

    it('refuses a palette PNG with transparency (tRNS)', async function () {
      await refused('last_frame', 'palette.png', 'alpha channel (transparency)');
    });

    it('refuses a 200x300 image, naming the size and the rule', async function () {
      await refused('first_frame', 'small.png', 'small.png is 200x300 px; width and height must each be between 240 and 8000 px');
    });

    it('refuses a 2000x240 image for its aspect ratio', async function () {
      await refused('first_frame', 'wide.png', 'wide.png has aspect 8.3:1', 'between 1:8 and 8:1');
    });

    it('collects every violation of one file', async function () {
      const err = await refused('first_frame', 'tall-thin.png', '200x2000 px', 'aspect 1:10.0');
      assert.equal(err.issues.length, 2);
    });

    it('refuses a GIF and a text file named .png, by their contents', async function () {
      await refused('first_frame', 'anim.gif', 'anim.gif is a GIF image', 'JPEG, PNG (without alpha), BMP or WEBP');
      await refused('first_frame', 'notes.png', 'notes.png is a text file', 'judged by its contents');
    });

    it('refuses an image over 20 MB', async function () {
      await refused('first_frame', 'huge.png', 'huge.png is 21.0 MB', 'at most 20 MB');
    });

    it('refuses a 1 s WAV and a 31 s MP3', async function () {
      await refused('driving_audio', 'short1.wav', 'short1.wav is 1.0 s long; driving audio must be 2–30 s');
      await refused('driving_audio', 'long31.mp3', /long31\.mp3 is 31\.\d s long; driving audio must be 2–30 s/);
    });

    it('refuses audio over 15 MB', async function () {
      await refused('driving_audio', 'big.wav', 'big.wav is 16.0 MB', 'at most 15 MB');
    });

    it('refuses non-audio as driving audio', async function () {
      await refused('driving_audio', 'rgb.png', 'not a WAV or MP3 file');
    });

    it('refuses a 12 s clip and a 200x200 clip', async function () {
      await refused('first_clip', 'long12.mp4', 'long12.mp4 is 12.0 s long; the first clip must be 2–10 s');
      await refused('first_clip', 'square200.mp4', 'square200.mp4 is 200x200 px; width and height must each be between 240 and 4096 px');
    });

    it('refuses a clip over 100 MB', async function () {
      await refused('first_clip', 'huge.mp4', 'huge.mp4 is 131.2 MB', 'at most 100 MB');
    });

    it('refuses a clip without a video track, and a non-video file', async function () {
      await refused('first_clip', 'audio-only.m4a', 'has no video track');
      await refused('first_clip', 'notes.png', 'not an MP4 or MOV file');
    });

    it('refuses damaged files with a clear message', async function () {
      await refused('first_frame', 'cut.png', 'cut.png cannot be read as an image', 'PNG');
      await refused('first_clip', 'cut.mp4', 'cut.mp4 cannot be read as an MP4/MOV video', 'no moov box');
      await refused('first_clip', 'largesize.mp4', 'largesize.mp4 is 5120.0 MB', 'at most 100 MB');
    });

    it('refuses a missing file and a folder with a clear message, not a raw ENOENT', async function () {
      const missing = await refused('first_frame', 'nope.png', 'nope.png was not found');
      assert.ok(!/at .*\(/.test(missing.message));
      await refused('first_clip', 'folder.png', 'folder.png is a folder');
    });
  });

  describe('imageToDataUri', function () {
    it('uses the sniffed MIME type, not the extension', async function () {
      const uri = await imageToDataUri(f('really-a-png.jpg'));
      assert.ok(uri.startsWith('data:image/png;base64,'));
      const back = Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64');
      assert.deepEqual(back, await fsp.readFile(f('rgb.png')));
      assert.ok((await imageToDataUri(f('lossy.webp'))).startsWith('data:image/webp;base64,'));
      assert.ok((await imageToDataUri(f('picture.bmp'))).startsWith('data:image/bmp;base64,'));
    });

    it('refuses what validateLocalMedia refuses', async function () {
      const err = await refusal(() => imageToDataUri(f('rgba.png'), 'last_frame'));
      assert.equal(err.issues[0]?.field, 'input.media[last_frame]');
      await refusal(() => imageToDataUri(f('notes.png')));
    });
  });
});
