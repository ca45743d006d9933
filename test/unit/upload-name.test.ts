// Uploaded objects are named with the extension of what the file is (probed), not of what it is called,
// checked in the emulator's upload store over real HTTP.
import assert from 'node:assert/strict';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { WanClient } from '../../src/wan/client';
import { uploadFileName } from '../../src/wan/media';
import { prepareRequest } from '../../src/wan/request';
import { ffmpeg, makeImage, tempDir } from '../support/fixtures';

const KEY = 'sk-upload-name';

describe('upload object names', function () {
  this.timeout(60_000);
  let dir = '';
  let emu: RunningEmulator;
  let client: WanClient;
  const f = (n: string) => join(dir, n);

  before(async () => {
    dir = await tempDir('upload-name');
    await Promise.all([
      makeImage(f('first.png'), 640, 480),
      // An MP3 named .wav, and a QuickTime movie named .mp4.
      ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:a', 'libmp3lame', '-f', 'mp3', f('voice.wav')]),
      ffmpeg([
        '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=24:duration=2',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mov', f('intro.mp4'),
      ]),
    ]);
    await copyFile(f('voice.wav'), f('voice'));
    emu = await startEmulator({ pendingMs: 0, runningMs: 0, apiKeys: [KEY] });
    client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
  });
  after(async () => {
    await client?.close();
    await emu?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The name the emulator's storage host stored an oss:// URL under. */
  function stored(url: string): string {
    const obj = emu.uploads.resolve(url);
    assert.ok(obj, `${url} was not stored`);
    assert.equal(`oss://${obj.key}`, url);
    return obj.key.split('/').pop()!;
  }

  it('prepareRequest passes the probed format to the uploader: an MP3 named voice.wav uploads as .mp3', async () => {
    const prepared = await prepareRequest(
      { firstFrame: f('first.png'), drivingAudio: f('voice.wav'), duration: 3 },
      (path, media) => client.uploadFile(path, { format: media?.format }),
    );
    const audio = prepared.body.input.media.find((m) => m.type === 'driving_audio');
    assert.ok(audio);
    assert.match(stored(audio.url), /^[0-9a-f-]{36}-voice\.mp3$/);
  });

  it('uploadFile names the object by the content even when no format is passed', async () => {
    assert.match(stored(await client.uploadFile(f('intro.mp4'))), /-intro\.mov$/);
    assert.match(stored(await client.uploadFile(f('voice'))), /-voice\.mp3$/);
  });

  it('keeps a name whose extension already fits, and makes names safe for a storage key', () => {
    assert.equal(uploadFileName('/x/My Clip.MOV', 'mov'), 'My_Clip.MOV');
    assert.equal(uploadFileName('/x/photo.jpeg', 'jpeg'), 'photo.jpeg');
    assert.equal(uploadFileName('/x/photo.png', 'jpeg'), 'photo.jpg');
    assert.equal(uploadFileName('/x/clip.m4v', 'mp4'), 'clip.mp4');
    assert.equal(uploadFileName('/x/voice', 'wav'), 'voice.wav');
    assert.equal(uploadFileName('/x/voice.wav'), 'voice.wav');
  });
});
