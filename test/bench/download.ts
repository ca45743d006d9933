// The download figures' processes (run by bench.ts, bundled beside it):
//   make <file> <bytes>  writes a whole MP4 of that size;
//   serve <file>         a loopback HTTP server for one file (Range supported), prints its URL;
//   fetch <url> <dest>   saves the URL with the extension's own downloadFile and prints one JSON line:
//                        seconds, bytes, and the peak resident memory above the process's own at the start.
// Each runs in a process of its own, so the server never shares the downloader's event loop and the
// memory figure is the downloader's alone.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
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
  const rssAtStart = process.memoryUsage().rss;
  const t0 = performance.now();
  void downloadFile(a!, b!, { dispatcher: new Agent(), retry: DEFAULT_RETRY }).then(
    (r) => {
      const seconds = (performance.now() - t0) / 1000;
      const peak = process.resourceUsage().maxRSS * 1024;
      console.log(JSON.stringify({ seconds, bytes: r.bytes, peakGrowthBytes: peak - rssAtStart }));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
