// Runs ffmpeg compiled to WebAssembly (@ffmpeg/core, a plain npm package: no binary download, one build for
// every platform) in a worker thread, so a conversion never blocks the extension host. No vscode import.
//
// @ffmpeg/core is built for browser workers: its loader reads `self.location.href` once and otherwise runs
// on any WebAssembly host when it is handed the .wasm bytes. The worker evaluates it with a local `self`,
// so no global of the host process is touched. Files go through ffmpeg's in-memory file system.
import { Worker } from 'node:worker_threads';

export interface WasmFfmpegJob {
  /** Host file read into the in-memory file system as `/in<ext>`. */
  input: string;
  /** Host file the in-memory `/out<ext>` is written to (only when ffmpeg exits with 0). */
  output: string;
  /** ffmpeg arguments, using the names `/in<ext>` and `/out<ext>` returned by `memfsNames`. */
  args: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WasmFfmpegResult {
  code: number;
  /** The tail of ffmpeg's log. */
  log: string;
}

export function memfsNames(input: string, output: string): { input: string; output: string } {
  const ext = (p: string) => /\.[A-Za-z0-9]{1,5}$/.exec(p)?.[0].toLowerCase() ?? '';
  return { input: `/in${ext(input)}`, output: `/out${ext(output)}` };
}

/** Where the core's loader and its .wasm are; resolved at run time (the package stays outside the bundle). */
export function wasmCorePaths(): { js: string; wasm: string } {
  return { js: require.resolve('@ffmpeg/core'), wasm: require.resolve('@ffmpeg/core/wasm') };
}

// The worker, as a CommonJS script (eval: true), so it needs no bundle entry of its own.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { js, wasm, input, output, memIn, memOut, args } = workerData;
const log = [];
const keep = (line) => { log.push(String(line)); if (log.length > 60) log.shift(); };
(async () => {
  const source = fs.readFileSync(js, 'utf8');
  const mod = { exports: {} };
  const self = { location: { href: 'file://' + js } };
  new Function('self', 'module', 'exports', source)(self, mod, mod.exports);
  const createFFmpegCore = mod.exports;
  const core = await createFFmpegCore({ wasmBinary: fs.readFileSync(wasm), print: keep, printErr: keep, locateFile: (p) => p });
  core.FS.writeFile(memIn, fs.readFileSync(input));
  const code = core.exec(...args);
  if (code === 0) fs.writeFileSync(output, core.FS.readFile(memOut));
  parentPort.postMessage({ code, log: log.join('\n') });
})().catch((e) => parentPort.postMessage({ code: -1, log: log.concat(String(e && e.stack || e)).join('\n') }));
`;

/** Runs one ffmpeg command in a fresh worker; rejects on timeout, abort or a worker crash. */
export function runWasmFfmpeg(job: WasmFfmpegJob): Promise<WasmFfmpegResult> {
  const { js, wasm } = wasmCorePaths();
  const names = memfsNames(job.input, job.output);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { js, wasm, input: job.input, output: job.output, memIn: names.input, memOut: names.output, args: [...job.args] },
    });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      job.signal?.removeEventListener('abort', abort);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`ffmpeg (WebAssembly) took longer than ${Math.round((job.timeoutMs ?? 0) / 1000)} s`))),
      job.timeoutMs ?? 300_000,
    );
    const abort = () => finish(() => reject(new Error('ffmpeg (WebAssembly) was canceled')));
    if (job.signal?.aborted) abort();
    else job.signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (m: WasmFfmpegResult) => finish(() => resolve(m)));
    worker.once('error', (e) => finish(() => reject(e)));
    worker.once('exit', (code) => finish(() => reject(new Error(`the ffmpeg worker exited with ${code} before answering`))));
  });
}
