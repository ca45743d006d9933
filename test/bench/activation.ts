// The activation figure's process (run by bench.ts, bundled beside it), fresh for each run:
//   activation <shell.js> <main.js> <storageDir>
// evaluates the production activation shell with the bench's `vscode` shim, calls its activate with a
// minimal context (an empty task list), then evaluates the rest of the extension (what the first use
// loads). Prints one JSON line of milliseconds.
import Module from 'node:module';
import { performance } from 'node:perf_hooks';
import * as shim from './vscode-shim';

const [shellFile, mainFile, storage] = process.argv.slice(2) as [string, string, string];
const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? shim : load.call(this, request, ...rest);
};

const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const shell = require(shellFile) as { activate(context: unknown): unknown };
const t1 = performance.now();
shell.activate({ subscriptions: [], globalStorageUri: { fsPath: storage }, extensionUri: { fsPath: storage } });
const t2 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(mainFile);
const t3 = performance.now();
console.log(JSON.stringify({ evalMs: t1 - t0, activateMs: t2 - t1, mainEvalMs: t3 - t2 }));
