// The emulator under load and bad input, over real HTTP on loopback: a corrupt or truncated input fails
// its task fast without holding up others, renders are time-limited, and the account limits hold
// (5 tasks processing at once, 5 creates per second).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CREATE_PATH, startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { MODEL } from '../../src/wan/limits';
import { validateLocalMedia } from '../../src/wan/media';
import { makeImage, tempDir } from '../support/fixtures';

const KEY = 'sk-limits-a';
const OTHER = 'sk-limits-b';

interface Json {
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The PNG with its image data scrambled but every chunk whole and every CRC right: only decoding fails. */
function undecodablePng(png: Buffer): Buffer {
  const out = Buffer.from(png);
  for (let p = 8; p + 12 <= out.length; ) {
    const len = out.readUInt32BE(p);
    if (out.toString('latin1', p + 4, p + 8) === 'IDAT') {
      for (let i = p + 8 + 2; i < p + 8 + len; i++) out[i] = (i * 131 + 7) & 0xff; // keep the zlib header
      out.writeUInt32BE(crc32(out.subarray(p + 4, p + 8 + len)), p + 8 + len);
    }
    p += 12 + len;
  }
  return out;
}

describe('emulator limits', function () {
  this.timeout(120_000);
  let dir = '';
  let files: { server: Server; url: string };
  const own: RunningEmulator[] = [];

  async function emulator(opts: Parameters<typeof startEmulator>[0]): Promise<RunningEmulator> {
    const e = await startEmulator({ apiKeys: [KEY, OTHER], ...opts });
    own.push(e);
    return e;
  }

  async function post(e: RunningEmulator, media: { type: string; url: string }[], parameters: Json = {}, key = KEY) {
    const res = await fetch(e.url + CREATE_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
      body: JSON.stringify({ model: MODEL, input: { media }, parameters: { resolution: '720P', duration: 2, ...parameters } }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function create(e: RunningEmulator, media: { type: string; url: string }[], parameters: Json = {}, key = KEY): Promise<string> {
    const r = await post(e, media, parameters, key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.output.task_id as string;
  }

  async function status(e: RunningEmulator, id: string, key = KEY): Promise<Json> {
    const res = await fetch(`${e.url}/api/v1/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as Json).output;
  }

  async function finished(e: RunningEmulator, id: string, withinMs: number, key = KEY): Promise<Json> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const out = await status(e, id, key);
      if (!['PENDING', 'RUNNING'].includes(out.task_status)) return out;
      if (Date.now() > deadline) throw new Error(`task ${id} still ${out.task_status} after ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const frame = (name: string) => [{ type: 'first_frame', url: `${files.url}/${name}` }];

  before(async () => {
    dir = await tempDir('emu-limits');
    const png = await readFile(await makeImage(join(dir, 'good.png'), 640, 480));
    await writeFile(join(dir, 'undecodable.png'), undecodablePng(png));
    await makeImage(join(dir, 'good.jpg'), 640, 480);
    const jpg = await readFile(join(dir, 'good.jpg'));
    await writeFile(join(dir, 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length * 0.6)));
    const server = createServer((req, res) => {
      readFile(join(dir, decodeURIComponent((req.url ?? '/').slice(1)))).then(
        (buf) => res.end(buf),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    files = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });

  after(async () => {
    await Promise.all(own.map((e) => e.close()));
    await new Promise((r) => files?.server.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('bad input and the renderer', () => {
    it('the undecodable fixture passes the core checks: only a decoder can tell', async () => {
      assert.equal((await validateLocalMedia('first_frame', join(dir, 'undecodable.png'))).format, 'png');
    });

    it('corrupt inputs fail fast with InvalidParameter, and a good task submitted with them succeeds promptly', async () => {
      const emu = await emulator({ pendingMs: 0, runningMs: 0 });
      const started = Date.now();
      const data = `data:image/png;base64,${(await readFile(join(dir, 'undecodable.png'))).toString('base64')}`;
      const [bad1, bad2, good] = await Promise.all([
        create(emu, frame('undecodable.png')),
        create(emu, [{ type: 'first_frame', url: data }]),
        create(emu, frame('good.png')),
      ]);
      const [b1, b2, g] = await Promise.all([finished(emu, bad1, 30_000), finished(emu, bad2, 30_000), finished(emu, good, 30_000)]);
      for (const b of [b1, b2]) {
        assert.deepEqual([b.task_status, b.code], ['FAILED', 'InvalidParameter'], JSON.stringify(b));
        assert.match(b.message, /first_frame.*could not be decoded/);
      }
      assert.equal(g.task_status, 'SUCCEEDED', JSON.stringify(g));
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    });

    it('checks fetched media with the core structure checks: a truncated JPEG fails its task', async () => {
      const emu = await emulator({ pendingMs: 0, runningMs: 0 });
      const out = await finished(emu, await create(emu, frame('truncated.jpg')), 30_000);
      assert.deepEqual([out.task_status, out.code], ['FAILED', 'InvalidParameter'], JSON.stringify(out));
      assert.match(out.message, /the first_frame file cannot be read as an image: truncated JPEG file/);
      assert.doesNotMatch(out.message, /first_frame-/, 'no emulator work-file names');
    });

    it('kills a render over its time limit: the task ends FAILED with InternalError.Timeout', async () => {
      const emu = await emulator({ pendingMs: 0, runningMs: 0, renderTimeoutMs: 300 });
      const started = Date.now();
      // A 15 s 1080P render with a cross-fade takes seconds, far over 300 ms.
      const id = await create(emu, [...frame('good.png'), { type: 'last_frame', url: `${files.url}/good.jpg` }], { resolution: '1080P', duration: 15 });
      const out = await finished(emu, id, 30_000);
      assert.deepEqual([out.task_status, out.code], ['FAILED', 'InternalError.Timeout'], JSON.stringify(out));
      assert.match(out.message, /time limit/);
      assert.ok(Date.now() - started < 5_000, `the render was not stopped at its limit: ${Date.now() - started} ms`);
    });
  });

  describe('account limits', () => {
    it('at most 5 creates per second per account: the 6th gets 429 Throttling.RateQuota', async () => {
      // Tasks stay PENDING for a minute: nothing renders.
      const emu = await emulator({ pendingMs: 60_000 });
      const answers = await Promise.all(Array.from({ length: 6 }, () => post(emu, frame('good.png'))));
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
      const refused = answers.find((a) => a.status === 429)!.body;
      assert.equal(refused.code, 'Throttling.RateQuota');
      assert.match(refused.message, /rate limit/i);
      assert.match(refused.request_id, /^[0-9a-f-]{36}$/);
      assert.equal(refused.output, undefined);
      // Another account has its own quota; a second later this one has its quota back.
      assert.equal((await post(emu, frame('good.png'), {}, OTHER)).status, 200);
      emu.clock.advance(1000);
      assert.equal((await post(emu, frame('good.png'))).status, 200);
    });

    it('the create rate is an option of startEmulator', async () => {
      const emu = await emulator({ pendingMs: 60_000, maxCreatesPerSecond: 2 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(emu, frame('good.png'))).status);
      assert.deepEqual(statuses, [200, 200, 429]);
    });

    it('at most 5 tasks RUNNING per account: a 6th stays PENDING until one ends, other accounts run', async () => {
      // Each task shows RUNNING for 10 emulated minutes after it starts.
      const emu = await emulator({ pendingMs: 0, runningMs: 600_000 });
      const first = [];
      for (let i = 0; i < 5; i++) first.push(await create(emu, frame('good.png')));
      emu.clock.advance(1000); // a fresh second for the create quota
      const sixth = await create(emu, frame('good.png'));
      const other = await create(emu, frame('good.png'), {}, OTHER);
      await new Promise((r) => setTimeout(r, 200)); // a few scheduler ticks
      for (const id of first) assert.equal((await status(emu, id)).task_status, 'RUNNING', id);
      const waiting = await status(emu, sixth);
      assert.equal(waiting.task_status, 'PENDING');
      assert.equal(waiting.scheduled_time, undefined);
      assert.equal((await status(emu, other, OTHER)).task_status, 'RUNNING');
      emu.clock.advance(600_000);
      for (const id of first) assert.equal((await finished(emu, id, 60_000)).task_status, 'SUCCEEDED');
      const deadline = Date.now() + 10_000;
      let now = await status(emu, sixth);
      while (now.task_status === 'PENDING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        now = await status(emu, sixth);
      }
      assert.equal(now.task_status, 'RUNNING');
      assert.ok(now.scheduled_time >= waiting.submit_time);
    });

    it('the running limit is an option of startEmulator', async () => {
      const emu = await emulator({ pendingMs: 0, runningMs: 600_000, maxRunningPerAccount: 1 });
      const a = await create(emu, frame('good.png'));
      const b = await create(emu, frame('good.png'));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([(await status(emu, a)).task_status, (await status(emu, b)).task_status], ['RUNNING', 'PENDING']);
    });
  });
});
