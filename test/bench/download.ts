// The download figures' processes (run by bench.ts, bundled beside it):
//   make <file> <bytes>  writes a whole MP4 of that size;
//   serve <file>         a loopback HTTP server for one file (Range supported), prints its URL;
//   fetch <url> <dest>   saves the URL with the extension's own downloadFile and prints one JSON line:
//                        seconds, CPU seconds, bytes, the peak resident memory above the process's own at
//                        the start, and the peak of what JavaScript holds (heap + buffers) above its start;
//   undici-stream <url> <dest>, undici-request <url> <dest>
//                        the same figures for undici's `stream()` and `request()` (its body iterated) into a
//                        sink that copies into one reused 1 MB block and writes it when full (a comparison for
//                        BENCHMARKS.md: no resume, no checks; the product downloads with src/wan/stream.ts).
// Each runs in a process of its own, so the server never shares the downloader's event loop and the
// memory figure is the downloader's alone.
import { closeSync, createReadStream, openSync, statSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { request as undiciRequest, stream as undiciStream } from 'undici';
import { createServer, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { downloadFile } from '../../src/wan/download';
import { DEFAULT_RETRY } from '../../src/wan/retry';
import { writeSizedMp4 } from '../support/sizedMp4';

const [role, a, b] = process.argv.slice(2);

if (role === 'make') {
  writeSizedMp4(a!, Number(b));
} else if (role === 'serve') {
  const file = a!;
  const size = statSync(file).size;
  const server = createServer((req, res) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= size && m) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(m ? 206 : 200, {
      'content-type': 'video/mp4',
      'content-length': String(size - start),
      ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    createReadStream(file, { start, highWaterMark: 256 * 1024 }).pipe(res);
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`http://127.0.0.1:${port}/video.mp4`);
  });
} else if (role === 'fetch' || role === 'undici-stream' || role === 'undici-request') {
  // One small request first, as a running extension host or CLI has made before its download (the HTTP
  // client loaded and warm); then the download, timed alone.
  const warm = new Promise<void>((resolve, reject) =>
    request(a!, { headers: { range: 'bytes=0-1023' } }, (res) => res.resume().once('end', resolve).once('error', reject)).once('error', reject).end(),
  );
  void warm.then(() => {
    const rssAtStart = process.memoryUsage().rss;
    // What JavaScript holds (heap and buffers), sampled, beside the resident size (which also counts memory
    // the allocator has freed but not yet returned).
    const held = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const heldAtStart = held();
    let heldPeak = heldAtStart;
    const sampler = setInterval(() => (heldPeak = Math.max(heldPeak, held())), 10);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const download = role === 'fetch' ? downloadFile(a!, b!, { retry: DEFAULT_RETRY }) : undiciDownload(role, a!, b!);
    return download.then((r) => {
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(sampler);
      const peak = process.resourceUsage().maxRSS * 1024;
      console.log(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytes: r.bytes, peakGrowthBytes: peak - rssAtStart, heldGrowthBytes: Math.max(heldPeak, held()) - heldAtStart }));
      process.exit(0);
    });
  }).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

/** undici into a reused-block sink: each chunk is copied into one 1 MB block, written to the file when full. */
async function undiciDownload(how: string, url: string, dest: string): Promise<{ bytes: number }> {
  const fd = openSync(dest, 'w');
  const block = Buffer.allocUnsafe(1024 * 1024);
  let used = 0;
  let bytes = 0;
  const take = (chunk: Buffer) => {
    bytes += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const n = chunk.copy(block, used, at);
      used += n;
      at += n;
      if (used === block.length) used -= writeSync(fd, block, 0, used);
    }
  };
  try {
    if (how === 'undici-stream') {
      await undiciStream(url, { method: 'GET' }, () => new Writable({ write: (chunk: Buffer, _enc, done) => (take(chunk), done()) }));
    } else {
      const { body } = await undiciRequest(url);
      for await (const chunk of body) take(chunk as Buffer);
    }
    if (used) writeSync(fd, block, 0, used);
  } finally {
    closeSync(fd);
  }
  return { bytes };
}
