// Builds every bundle: the extension host, the CLI and the emulator for Node, the webview pages for the browser.
// `--production` minifies, copies the WebAssembly ffmpeg beside the bundles (dist/ffmpeg-core/, for the VSIX,
// which carries no node_modules) and fails when a bundle is over its size budget; `--watch` rebuilds on change.
// Source maps are always written (the VSIX leaves them out). Every build prints the bundles against their budgets.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: true,
  sourcesContent: !production,
  logLevel: 'info',
  legalComments: 'none',
};

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const nodeCommon = {
  ...common,
  define: { __WAN_STUDIO_VERSION__: JSON.stringify(pkg.version) },
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The ffmpeg packages locate their binary (or .wasm) next to their own files, so they stay real modules.
  external: ['vscode', '@ffmpeg-installer/ffmpeg', '@ffmpeg/core'],
  // jsonc-parser's `main` is a UMD build whose dynamic require('./impl/format') a bundle cannot follow (the
  // loaded extension failed with "Cannot find module './impl/format'"): its ES module build bundles whole.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

const builds = [
  // The extension host loads the activation shell (a few KB) at once and the rest on first use (src/extension/entry.ts).
  { ...nodeCommon, entryPoints: ['src/extension/entry.ts'], outfile: 'dist/extension.js' },
  { ...nodeCommon, entryPoints: ['src/extension/activate.ts'], outfile: 'dist/extension-main.js' },
  { ...nodeCommon, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...nodeCommon, entryPoints: ['src/emulator/main.ts'], outfile: 'dist/emulator.js' },
  // The webview pages, one folder per view under webview/; each page's CSS import becomes dist/webview/<view>.css.
  {
    ...common,
    entryPoints: { player: 'webview/player/main.ts', generate: 'webview/generate/main.ts', gallery: 'webview/gallery/main.ts', storyboard: 'webview/storyboard/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
  },
];

/** Size budgets in bytes of the bundles that load at run time (the minified production build is what they bound). */
const BUDGETS = {
  'dist/extension.js': 24_000, // the activation shell: what every window that activates evaluates
  'dist/extension-main.js': 1_400_000, // the rest, loaded on first use (undici and zod inside)
  'dist/emulator.js': 700_000,
  'dist/cli.js': 1_300_000,
  'dist/webview/generate.js': 180_000,
  'dist/webview/generate.css': 16_000,
  'dist/webview/player.js': 60_000,
  'dist/webview/player.css': 16_000,
  'dist/webview/gallery.js': 100_000,
  'dist/webview/gallery.css': 16_000,
  'dist/webview/storyboard.js': 140_000,
  'dist/webview/storyboard.css': 16_000,
};

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  if (production) copyWasmCore();
  if (!checkBudgets() && production) {
    console.error('A bundle is over its size budget (see above): make it smaller or raise the budget in esbuild.mjs on purpose.');
    process.exit(1);
  }
}

/** Copies @ffmpeg/core's CommonJS loader and .wasm to dist/ffmpeg-core/ (src/ffmpeg/wasmFfmpeg.ts looks there first). */
function copyWasmCore() {
  const require = createRequire(import.meta.url);
  const dir = 'dist/ffmpeg-core';
  mkdirSync(dir, { recursive: true });
  copyFileSync(require.resolve('@ffmpeg/core'), join(dir, 'ffmpeg-core.js'));
  copyFileSync(require.resolve('@ffmpeg/core/wasm'), join(dir, 'ffmpeg-core.wasm'));
  // The core (FFmpeg with x264 and others) is GPL-2.0-or-later and its package has no licence file: say so beside it.
  const pkg = JSON.parse(readFileSync(join(dirname(require.resolve('@ffmpeg/core')), '..', '..', 'package.json'), 'utf8'));
  writeFileSync(
    join(dir, 'NOTICE.txt'),
    `${pkg.name} ${pkg.version}: FFmpeg compiled to WebAssembly by the ffmpeg.wasm project.\n` +
      `Licence: ${pkg.license}. Source: https://github.com/ffmpegwasm/ffmpeg.wasm.\n`,
  );
}


/** Prints each bundle against its budget; false when one is over. Development builds are not minified, so only production is held to them. */
function checkBudgets() {
  let ok = true;
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`\nBundle size budgets (${production ? 'production' : 'development build, not minified: budgets apply to --production'}):`);
  for (const [file, budget] of Object.entries(BUDGETS)) {
    const size = statSync(file).size;
    const over = size > budget;
    if (over) ok = false;
    console.log(`  ${!production ? '    ' : over ? 'OVER' : 'ok  '}  ${file.padEnd(28)} ${kb(size).padStart(10)} of ${kb(budget).padStart(10)}`);
  }
  return ok;
}
