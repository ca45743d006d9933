// Builds every bundle: the extension host, the CLI and the emulator for Node, the webview for the browser.
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
  // The ffmpeg package locates its binary next to its own files, so it must stay a real module.
  external: ['vscode', '@ffmpeg-installer/ffmpeg'],
};

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension/activate.ts'], outfile: 'dist/extension.js' },
  { ...nodeCommon, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...nodeCommon, entryPoints: ['src/emulator/main.ts'], outfile: 'dist/emulator.js' },
  // The webview page; its CSS import becomes dist/webview.css.
  { ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', target: 'es2022', format: 'esm' },
  // The generation panel's page; its CSS becomes dist/generate.css.
  { ...common, entryPoints: ['webview/generate/main.ts'], outfile: 'dist/generate.js', platform: 'browser', target: 'es2022', format: 'esm' },
];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
