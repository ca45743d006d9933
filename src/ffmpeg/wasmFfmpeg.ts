// Runs ffmpeg compiled to WebAssembly (@ffmpeg/core, a plain npm package: no binary download, one build for
// every platform) in a worker thread, so a conversion never blocks the extension host. No vscode import.
//
// @ffmpeg/core is built for browser workers: its loader reads `self.location.href` once and otherwise runs
// on any WebAssembly host when it is handed the .wasm bytes. The worker evaluates it with a local `self`,
// so no global of the host process is touched. Files go through ffmpeg's in-memory file system.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** A host file and its name in ffmpeg's in-memory file system. */
export interface MemfsFile {
  host: string;
  mem: string;
}

export interface WasmFfmpegJob {
  /** Host file read into the in-memory file system as `/in<ext>`. */
  input?: string;
  /** Host file the in-memory `/out<ext>` is written to (only when ffmpeg exits with 0). */
  output?: string;
  /** More host files copied in before the run (any names, at the root of the in-memory file system). */
  inputs?: readonly MemfsFile[];
  /** More in-memory files copied out after a successful run. */
  outputs?: readonly MemfsFile[];
  /** ffmpeg arguments, using the names `/in<ext>` and `/out<ext>` returned by `memfsNames` (and those of `inputs`/`outputs`). */
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

/** Folder, beside the bundles, that the production build copies the core into (the VSIX carries no node_modules). */
export const BUNDLED_CORE_DIR = 'ffmpeg-core';

/**
 * Where the core's loader and its .wasm are: the copy beside the bundle (`dist/ffmpeg-core/`, made by the
 * production build) if there is one, else the npm package (development, tests).
 */
export function wasmCorePaths(): { js: string; wasm: string } {
  const dir = join(__dirname, BUNDLED_CORE_DIR);
  const bundled = { js: join(dir, 'ffmpeg-core.js'), wasm: join(dir, 'ffmpeg-core.wasm') };
  if (existsSync(bundled.js) && existsSync(bundled.wasm)) return bundled;
  return { js: require.resolve('@ffmpeg/core'), wasm: require.resolve('@ffmpeg/core/wasm') };
}

// The worker, as a CommonJS script (eval: true), so it needs no bundle entry of its own.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { js, wasm, inputs, outputs, args } = workerData;
const log = [];
const keep = (line) => { log.push(String(line)); if (log.length > 60) log.shift(); };
(async () => {
  const source = fs.readFileSync(js, 'utf8');
  const mod = { exports: {} };
  const self = { location: { href: 'file://' + js } };
  new Function('self', 'module', 'exports', source)(self, mod, mod.exports);
  const createFFmpegCore = mod.exports;
  const core = await createFFmpegCore({ wasmBinary: fs.readFileSync(wasm), print: keep, printErr: keep, locateFile: (p) => p });
  // ffmpeg's own log goes to the logger, not to print/printErr.
  if (typeof core.setLogger === 'function') core.setLogger((m) => keep(m && m.message !== undefined ? m.message : m));
  for (const f of inputs) core.FS.writeFile(f.mem, fs.readFileSync(f.host));
  const code = core.exec(...args);
  if (code === 0) for (const f of outputs) fs.writeFileSync(f.host, core.FS.readFile(f.mem));
  parentPort.postMessage({ code, log: log.join('\n') });
})().catch((e) => parentPort.postMessage({ code: -1, log: log.concat(String(e && e.stack || e)).join('\n') }));
`;

/** The command ran past its time limit; its worker was stopped. */
export class WasmFfmpegTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`ffmpeg (WebAssembly) took longer than ${Math.round(timeoutMs / 1000)} s`);
  }
}

/** The command was aborted by its signal; its worker was stopped. */
export class WasmFfmpegCanceledError extends Error {
  constructor() {
    super('ffmpeg (WebAssembly) was canceled');
  }
}

/** Runs one ffmpeg command in a fresh worker; rejects on timeout, abort or a worker crash. */
export function runWasmFfmpeg(job: WasmFfmpegJob): Promise<WasmFfmpegResult> {
  const { js, wasm } = wasmCorePaths();
  const names = memfsNames(job.input ?? '', job.output ?? '');
  const inputs = [...(job.input ? [{ host: job.input, mem: names.input }] : []), ...(job.inputs ?? [])];
  const outputs = [...(job.output ? [{ host: job.output, mem: names.output }] : []), ...(job.outputs ?? [])];
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { js, wasm, inputs, outputs, args: [...job.args] },
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
    const timeoutMs = job.timeoutMs ?? 300_000;
    const timer = setTimeout(() => finish(() => reject(new WasmFfmpegTimeoutError(timeoutMs))), timeoutMs);
    const abort = () => finish(() => reject(new WasmFfmpegCanceledError()));
    if (job.signal?.aborted) abort();
    else job.signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (m: WasmFfmpegResult) => finish(() => resolve(m)));
    worker.once('error', (e) => finish(() => reject(e)));
    worker.once('exit', (code) => finish(() => reject(new Error(`the ffmpeg worker exited with ${code} before answering`))));
  });
}
