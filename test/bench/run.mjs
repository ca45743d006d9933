// `npm run bench`: bundles test/bench/bench.ts (the real tree provider, with a small `vscode` shim) and
// runs it in plain Node. Prints figures; it is not a timed test and never fails on a number.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'wan-bench-'));
try {
  await esbuild.build({
    entryPoints: [join(here, 'bench.ts')],
    outfile: join(out, 'bench.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    alias: { vscode: resolve(here, 'vscode-shim.ts') },
    logLevel: 'warning',
  });
  execFileSync(process.execPath, [join(out, 'bench.js')], { stdio: 'inherit' });
} finally {
  rmSync(out, { recursive: true, force: true });
}
