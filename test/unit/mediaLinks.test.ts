// Media over the message channel, the host's side: a page reads only files its host named, in chunks that add
// up to the file, and a file changed since it was named gets a new name. Real files in a temp folder.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MediaChunkRequest } from '../../src/protocol/media';
import { MEDIA_CHUNK_BYTES, isMediaRef } from '../../src/protocol/mediaRef';
import { MediaLinks, mimeOf } from '../../src/extension/webviews/mediaLinks';
import { tempDir } from '../support/fixtures';

describe('media links', function () {
  let dir = '';
  before(async () => (dir = await tempDir('media-links')));
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads a named file back in chunks that add up to it, with its type', async function () {
    const file = join(dir, 'clip one.mp4');
    const bytes = randomBytes(MEDIA_CHUNK_BYTES * 2 + 12345);
    await writeFile(file, bytes);
    const links = new MediaLinks();
    const ref = links.link(file);
    assert.ok(isMediaRef(ref));
    assert.match(ref, new RegExp(`/${encodeURIComponent(basename(dir))}/clip%20one\\.mp4$`));
    assert.equal(links.link(file), ref, 'the same file as it is gets the same name');
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const chunk = await links.read(ref, offset, MEDIA_CHUNK_BYTES);
      assert.equal(chunk.size, bytes.length);
      assert.equal(chunk.mime, 'video/mp4');
      assert.ok(chunk.bytes.byteLength <= MEDIA_CHUNK_BYTES);
      if (!chunk.bytes.byteLength) break;
      // Its own buffer: nothing else of the host's memory would cross the channel with it.
      assert.equal(chunk.bytes.byteOffset, 0);
      parts.push(Buffer.from(chunk.bytes));
      offset += chunk.bytes.byteLength;
    }
    assert.equal(parts.length, 3);
    assert.ok(Buffer.concat(parts).equals(bytes));
  });

  it('refuses a name it never gave out, and forgets every name when cleared', async function () {
    const file = join(dir, 'still.png');
    await writeFile(file, randomBytes(100));
    const links = new MediaLinks();
    await assert.rejects(links.read('wan-media:1/still.png', 0, 10), /Nothing is shown under/);
    const ref = links.link(file);
    assert.equal((await links.read(ref, 0, 10)).bytes.byteLength, 10);
    assert.equal((await links.read(ref, 0, 10)).mime, 'image/png');
    links.clear();
    await assert.rejects(links.read(ref, 0, 10), /Nothing is shown under/);
  });

  it('names a file again once it has changed, so a page never shows its old copy', async function () {
    const file = join(dir, 'shot.mp4');
    await writeFile(file, randomBytes(50));
    const links = new MediaLinks();
    const first = links.link(file);
    await writeFile(file, randomBytes(80));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const second = links.link(file);
    assert.notEqual(second, first);
    assert.equal((await links.read(second, 0, 1000)).size, 80);
  });

  it('the page\'s request is checked before anything is read: only named references, bounded chunks', function () {
    const ok = { type: 'request', id: 1, method: 'mediaChunk', params: { ref: 'wan-media:3/a.mp4', offset: 0, length: MEDIA_CHUNK_BYTES } };
    assert.ok(MediaChunkRequest.safeParse(ok).success);
    for (const params of [
      { ref: '/etc/passwd', offset: 0, length: 10 },
      { ref: 'wan-media:3/a.mp4', offset: -1, length: 10 },
      { ref: 'wan-media:3/a.mp4', offset: 0, length: MEDIA_CHUNK_BYTES + 1 },
      { ref: 'wan-media:3/a.mp4', offset: 0, length: 10, path: '/etc/passwd' },
    ]) {
      assert.equal(MediaChunkRequest.safeParse({ ...ok, params }).success, false, JSON.stringify(params));
    }
    assert.equal(mimeOf('/x/A.MOV'), 'video/quicktime');
    assert.equal(mimeOf('/x/a.unknown'), 'application/octet-stream');
  });
});
