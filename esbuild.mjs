// Builds every bundle: the extension host, the CLI and the emulator for Node, the webview pages for the browser.
// `--production` minifies; `--watch` rebuilds on change. Source maps are always written.
import * as esbuild from 'esbuild';

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

const nodeCommon = {
  ...common,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The ffmpeg packages locate their binary (or .wasm) next to their own files, so they stay real modules.
  external: ['vscode', '@ffmpeg-installer/ffmpeg', '@ffmpeg/core'],
};

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension/activate.ts'], outfile: 'dist/extension.js' },
  { ...nodeCommon, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...nodeCommon, entryPoints: ['src/emulator/main.ts'], outfile: 'dist/emulator.js' },
  // The webview pages, one folder per view under webview/; each page's CSS import becomes dist/webview/<view>.css.
  {
    ...common,
    entryPoints: { player: 'webview/player/main.ts', generate: 'webview/generate/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
  },
];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
