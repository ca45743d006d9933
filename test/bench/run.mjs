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
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    // As in esbuild.mjs: jsonc-parser's UMD `main` requires './impl/format' dynamically, which a bundle cannot follow.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  };
  // The bench and its child processes (downloads, activation), with the bench's `vscode` shim.
  await esbuild.build({
    ...common,
    entryPoints: { bench: join(here, 'bench.ts'), download: join(here, 'download.ts'), activation: join(here, 'activation.ts'), rehearsal: join(here, 'rehearsal.ts') },
    outdir: out,
    alias: { ...common.alias, vscode: resolve(here, 'vscode-shim.ts') },
    // The emulator's ffmpeg packages are required from the repository's node_modules (NODE_PATH below).
    external: ['@ffmpeg-installer/ffmpeg', '@ffmpeg/core'],
  });
  // The extension's two host bundles as the VSIX ships them (minified), for the activation figures.
  const repo = resolve(here, '..', '..');
  await esbuild.build({
    ...common,
    entryPoints: { shell: join(repo, 'src/extension/entry.ts'), 'extension-main': join(repo, 'src/extension/activate.ts') },
    outdir: join(out, 'extension'),
    minify: true,
    define: { __WAN_STUDIO_VERSION__: '"bench"' },
    external: ['vscode', '@ffmpeg-installer/ffmpeg', '@ffmpeg/core'],
  });
  execFileSync(process.execPath, [join(out, 'bench.js'), ...process.argv.slice(2)], {
    stdio: 'inherit',
    // The minified extension requires its ffmpeg packages from the repository's node_modules.
    env: { ...process.env, NODE_PATH: join(repo, 'node_modules'), WAN_BENCH_REPO: repo },
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
