// The 20 MB image limit at its exact boundary, for local files and data: URIs, against real PNGs.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { WanValidationError } from '../../src/wan/errors';
import { IMAGE, MB, MODEL } from '../../src/wan/limits';
import { readImageAsDataUri, validateDataUriImage, validateLocalMedia } from '../../src/wan/media';
import { prepareRequest } from '../../src/wan/request';
import { base64DecodedBytes, parseCreateRequest } from '../../src/wan/schema';
import { makeImage, tempDir } from '../support/fixtures';

/** A PNG chunk with its length and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** The same PNG grown to exactly `total` bytes with a tEXt comment before IEND (a valid file). */
export function padPng(png: Buffer, total: number): Buffer {
  const iend = png.length - 12;
  assert.equal(png.toString('latin1', iend + 4, iend + 8), 'IEND');
  const textLen = total - png.length - 12;
  assert.ok(textLen > 8);
  const text = Buffer.alloc(textLen, 0x20);
  text.write('Comment\0', 0, 'latin1');
  const out = Buffer.concat([png.subarray(0, iend), pngChunk('tEXt', text), png.subarray(iend)]);
  assert.equal(out.length, total);
  return out;
}

function refusedWith(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof WanValidationError, `expected WanValidationError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

describe('the 20 MB image limit, exactly', function () {
  this.timeout(60_000);
  let dir = '';
  const limit = IMAGE.maxBytes;
  const f = (n: string) => join(dir, n);

  before(async () => {
    assert.equal(limit, 20 * 1024 * 1024);
    dir = await tempDir('limits');
    const png = await fsp.readFile(await makeImage(f('base.png'), 750, 1000));
    await fsp.writeFile(f('exactly20.png'), padPng(png, limit));
    await fsp.writeFile(f('over20.png'), padPng(png, limit + 1));
  });
  after(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('accepts a local image of exactly 20 MB, through to the create body', async () => {
    assert.equal((await fsp.stat(f('exactly20.png'))).size, 20 * MB);
    assert.equal((await validateLocalMedia('first_frame', f('exactly20.png'))).bytes, 20 * MB);
    const prepared = await prepareRequest({ firstFrame: f('exactly20.png'), duration: 2 }, () => assert.fail('no upload'));
    assert.match(prepared.body.input.media[0]!.url, /^data:image\/png;base64,/);
  });

  it('accepts a data: URI of exactly 20 MB (its base64 ends in padding)', async () => {
    const { dataUri } = await readImageAsDataUri(f('exactly20.png'));
    assert.ok(dataUri.endsWith('='), 'the fixture should need base64 padding');
    assert.equal((await validateDataUriImage('first_frame', dataUri)).bytes, 20 * MB);
    const body = parseCreateRequest({ model: MODEL, input: { media: [{ type: 'first_frame', url: dataUri }] } });
    assert.equal(body.input.media[0]!.url, dataUri);
  });

  it('refuses 20 MB + 1 byte, locally and as a data: URI, naming the exact size', async () => {
    await assert.rejects(
      validateLocalMedia('first_frame', f('over20.png')),
      refusedWith(/over20\.png is 20\.0 MB \(20,971,521 bytes\); image files must be at most 20 MB/),
    );
    await assert.rejects(
      prepareRequest({ firstFrame: f('over20.png'), duration: 2 }, () => assert.fail('no upload')),
      refusedWith(/at most 20 MB/),
    );
    const uri = `data:image/png;base64,${(await fsp.readFile(f('over20.png'))).toString('base64')}`;
    assert.throws(
      () => parseCreateRequest({ model: MODEL, input: { media: [{ type: 'first_frame', url: uri }] } }),
      refusedWith(/input\.media\[0\]\.url: the image is 20\.0 MB \(20,971,521 bytes\); images may be at most 20 MB/),
    );
    await assert.rejects(validateDataUriImage('first_frame', uri), refusedWith(/at most 20 MB/));
  });

  it('counts the decoded size of base64 exactly, with and without padding', () => {
    for (let n = 0; n < 40; n++) {
      const b64 = Buffer.alloc(n, 0xab).toString('base64');
      assert.equal(base64DecodedBytes(b64), n, `padded, ${n} bytes`);
      assert.equal(base64DecodedBytes(b64.replace(/=+$/, '')), n, `unpadded, ${n} bytes`);
    }
  });
});
