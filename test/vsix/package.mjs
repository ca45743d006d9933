// npm run package: builds the production VSIX with @vscode/vsce and checks it.
// - vsce runs `vscode:prepublish` (the production build, which fails when a bundle is over its budget);
// - --no-dependencies: every runtime module is bundled, and the WebAssembly ffmpeg is copied to dist/ffmpeg-core/,
//   so the VSIX carries no node_modules and is the same file for every platform (no --target);
// - then the VSIX must be at most 25 MB and hold no sources, source maps, tests or node_modules.
// Prints the VSIX path on the last line.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const MAX_VSIX_BYTES = 25 * 1024 * 1024;
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const out = resolve(process.argv[2] ?? `${pkg.name}-${pkg.version}.vsix`);

const require = createRequire(import.meta.url);
const vsce = require.resolve('@vscode/vsce/vsce');
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const entries = await listZip(out);
const bad = entries.filter((e) => /\.map$|(^|\/)node_modules\/|^extension\/(src|test|webview|out)\/|\.ts$/.test(e.name));
const size = statSync(out).size;
const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;
console.log(`\nVSIX ${out}: ${mb(size)} (budget ${mb(MAX_VSIX_BYTES)}), ${entries.length} files`);
for (const e of entries.filter((x) => x.size > 100_000)) console.log(`  ${e.name}  ${mb(e.size)} (${mb(e.compressed)} compressed)`);
let failed = false;
if (size > MAX_VSIX_BYTES) {
  console.error(`The VSIX is over its ${mb(MAX_VSIX_BYTES)} budget.`);
  failed = true;
}
if (bad.length) {
  console.error(`The VSIX holds files that do not run (check .vscodeignore):\n  ${bad.map((e) => e.name).join('\n  ')}`);
  failed = true;
}
for (const needed of ['extension/dist/extension.js', 'extension/dist/extension-main.js', 'extension/dist/emulator.js', 'extension/dist/ffmpeg-core/ffmpeg-core.wasm', 'extension/media/icon.png']) {
  if (!entries.some((e) => e.name === needed)) {
    console.error(`The VSIX lacks ${needed}.`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(out);

/** The entries of a zip file (name, uncompressed and compressed size), read with yauzl (a dependency of vsce). */
function listZip(file) {
  const yauzl = createRequire(vsce)('yauzl');
  return new Promise((ok, fail) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return fail(err);
      const list = [];
      zip.on('entry', (e) => {
        list.push({ name: e.fileName, size: e.uncompressedSize, compressed: e.compressedSize });
        zip.readEntry();
      });
      zip.on('end', () => ok(list));
      zip.on('error', fail);
      zip.readEntry();
    });
  });
}
