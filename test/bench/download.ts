// The download figures' processes (run by bench.ts, bundled beside it):
//   make <file> <bytes>  writes a whole MP4 of that size;
//   serve <file>         a loopback HTTP server for one file (Range supported), prints its URL;
//   fetch <url> <dest>   saves the URL with the extension's own downloadFile and prints one JSON line:
//                        seconds, CPU seconds, bytes, the peak resident memory above the process's own at
//                        the start, and the peak of what JavaScript holds (heap + buffers) above its start.
// Each runs in a process of its own, so the server never shares the downloader's event loop and the
// memory figure is the downloader's alone.
import { createReadStream, statSync } from 'node:fs';
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
} else if (role === 'fetch') {
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
    return downloadFile(a!, b!, { retry: DEFAULT_RETRY }).then((r) => {
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
