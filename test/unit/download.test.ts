// The streaming download (src/wan/download.ts) over real loopback HTTP with files of many megabytes: a
// connection cut while megabytes wait to be written resumes at exactly the byte the file holds, and a
// download far larger than the write buffer keeps the process's memory bounded (run in a child process).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { downloadFile } from '../../src/wan/download';
import { WanNetworkError } from '../../src/wan/errors';
import { BLOCKS, getStream } from '../../src/wan/stream';
import { DEFAULT_TIMEOUTS } from '../../src/wan/http';
import { tempDir } from '../support/fixtures';
import { writeSizedMp4 } from '../support/sizedMp4';

const RETRY = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 100 };

/** Serves `file` with Range; `cutAt` (when set) ends the first whole-file answer's connection after that many bytes. */
function serve(file: string, options: { cutAt?: number } = {}): Promise<{ server: Server; url: string; ranges: (string | undefined)[] }> {
  const size = statSync(file).size;
  const ranges: (string | undefined)[] = [];
  let cut = options.cutAt;
  const server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': String(size - start),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    if (cut !== undefined && start === 0) {
      const end = cut;
      cut = undefined;
      cutAfter(res, readFileSync(file).subarray(0, end));
      return;
    }
    createReadStream(file, { start }).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, ranges, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v.mp4` })),
  );
}

/** Sends `bytes`, then drops the connection once they have left (so the client gets exactly them). */
function cutAfter(res: ServerResponse, bytes: Buffer): void {
  res.write(bytes, () => setTimeout(() => res.destroy(), 20));
}

describe('Streaming download', function () {
  let dir: string;
  const servers: Server[] = [];
  before(async () => {
    dir = await tempDir('download');
  });
  after(() => servers.forEach((s) => s.close()));

  it('resumes a connection cut mid-way at exactly the bytes written, megabytes in, and saves the same file', async () => {
    const source = join(dir, 'source-8mb.mp4');
    writeSizedMp4(source, 8_000_000);
    const cutAt = 5_432_109;
    const { server, url, ranges } = await serve(source, { cutAt });
    servers.push(server);
    const dest = join(dir, 'cut', 'v.mp4');
    const saved = await downloadFile(url, dest, { retry: RETRY });
    assert.deepEqual([saved.bytes, saved.expectedBytes, saved.kept], [8_000_000, 8_000_000, false]);
    assert.deepEqual(ranges, [undefined, `bytes=${cutAt}-`], 'the resume asks for the byte after the last one that arrived');
    assert.ok(readFileSync(dest).equals(readFileSync(source)));
    assert.deepEqual(await readdir(join(dir, 'cut')), ['v.mp4'], 'no temporary file is left');
  });

  it('refuses a file that ends early with no way to resume, and leaves nothing behind', async () => {
    const source = join(dir, 'source-6mb.mp4');
    writeSizedMp4(source, 6_000_000);
    // Every answer is cut: the retries run out.
    const size = statSync(source).size;
    const server = createServer((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(start > 0 ? 206 : 200, { 'content-length': String(size - start), ...(start > 0 ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
      cutAfter(res, readFileSync(source).subarray(start, Math.min(size, start + 1_500_000)));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v.mp4`;
    await assert.rejects(downloadFile(url, join(dir, 'never', 'v.mp4'), { retry: RETRY }), (e: unknown) => e instanceof WanNetworkError);
    assert.deepEqual(await readdir(join(dir, 'never')), []);
  });

  it('keeps memory bounded on a download far larger than its buffer (a child process, 128 MB)', async function () {
    this.timeout(60_000);
    const source = join(dir, 'source-128mb.mp4');
    writeSizedMp4(source, 128_000_000);
    const { server, url } = await serve(source);
    servers.push(server);
    const dest = join(dir, 'big', 'v.mp4');
    // A process of its own, so its peak resident memory is the download's alone.
    const script = `
      const { downloadFile } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'wan', 'download.js'))});
      // What JavaScript holds (heap and buffers), sampled: the resident size also counts memory the
      // allocator has freed but not yet returned, which varies with the machine's load, not with the code.
      const held = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      const start = held();
      let peak = start;
      const sampler = setInterval(() => { peak = Math.max(peak, held()); }, 20);
      downloadFile(process.argv[1], process.argv[2], { retry: ${JSON.stringify(RETRY)} }).then((r) => {
        clearInterval(sampler);
        console.log(JSON.stringify({ bytes: r.bytes, growth: Math.max(peak, held()) - start }));
        process.exit(0);
      }, (e) => { console.error(e); process.exit(1); });`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script, url, dest], { cwd: process.cwd() }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout))),
    );
    const { bytes, growth } = JSON.parse(out) as { bytes: number; growth: number };
    assert.equal(bytes, 128_000_000);
    assert.equal(statSync(dest).size, 128_000_000);
    // The reader's blocks (2 MB) and the code's own: a client that allocates every socket read (node:http,
    // undici) held 19–70 MB here before a collection, and a download that held the file would hold 128 MB.
    assert.ok(growth < 16 * 1024 * 1024, `peak memory grew by ${(growth / 1048576).toFixed(0)} MB for a 128 MB file`);
  });

  it('reads answers sent in awkward pieces: an interim 1xx, split headers, chunked framing split anywhere, a body ending with the connection', async () => {
    const body = Buffer.concat([Buffer.from('\r\n0\r\n\r\n'), Buffer.alloc(700_000, 0x41), Buffer.from('end\r\n')]);
    const chunked = Buffer.concat([
      Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Twice: a\r\nX-Twice: b\r\n\r\n'),
      ...[body.subarray(0, 9), body.subarray(9, 300_001), body.subarray(300_001)].map((c, i) =>
        Buffer.concat([Buffer.from(`${c.length.toString(16)}${i === 1 ? ';ext=1' : ''}\r\n`), c, Buffer.from('\r\n')]),
      ),
      Buffer.from('0\r\nTrailer: x\r\n\r\n'),
    ]);
    const closeDelimited = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), body]);
    const answers = [chunked, closeDelimited];
    // Sends each answer in pieces of 1 to 7 bytes around every framing line, and large pieces between.
    const server = createNetServer((socket: Socket) => {
      const answer = answers.shift()!;
      const send = async () => {
        for (let at = 0; at < answer.length; ) {
          const framing = answer.length - at < 64 || answer[at] === 0x0d || answer[at] === 0x0a || at < 200;
          const n = framing ? 1 + (at % 7) : 65_000;
          socket.write(answer.subarray(at, at + n));
          at += n;
          await new Promise((r) => setImmediate(r));
        }
        if (answer === closeDelimited) socket.end();
      };
      socket.once('data', () => void send());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v.mp4`;
    try {
      for (const expectTwice of ['a, b', undefined]) {
        const res = await getStream(url, { headers: {}, timeouts: DEFAULT_TIMEOUTS });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['x-twice'], expectTwice);
        const blocks: Buffer[] = [];
        let lent = 0;
        let mostLent = 0;
        // A slow sink: each block is given back a turn later, so the reader pauses when all are lent.
        await res.body.read((block, release) => {
          blocks.push(Buffer.from(block));
          mostLent = Math.max(mostLent, ++lent);
          setTimeout(() => (lent--, release()), 5);
        });
        assert.ok(Buffer.concat(blocks).equals(body), 'the body, byte for byte, without its framing');
        assert.ok(mostLent <= BLOCKS, `${mostLent} blocks lent at once`);
      }
    } finally {
      server.close();
    }
  });
});
