// npm run test:pack: the wan-video CLI as an npm package. Packs this repository (`npm pack`, which runs the
// production build through `prepack`), checks the tarball holds only the CLI bundle and its package files,
// installs it into an empty temp project with --offline (the package has no dependencies, so nothing is
// fetched), and runs `npx wan-video --version` and `--help` there with a PATH holding only Node's folder.
// WAN_PACK_FROM=<folder>: packs that copy of the repository as it is, without running prepack (npm test's runner
// gives the staged copy whose production build the VSIX was just made from, so the bundles are built once).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const PACK_FROM = process.env.WAN_PACK_FROM ? resolve(process.env.WAN_PACK_FROM) : undefined;
const t0 = Date.now();
const work = mkdtempSync(join(tmpdir(), 'wan-pack-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function sh(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let ok = false;
try {
  // 1. Pack.
  // prepack's build log shares stdout with the JSON answer, which comes last.
  const packArgs = ['pack', '--json', '--pack-destination', work, ...(PACK_FROM ? ['--ignore-scripts'] : [])];
  const out = sh(npm, packArgs, { cwd: PACK_FROM ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const packed = JSON.parse(out.slice(out.lastIndexOf('\n[') + 1));
  const info = packed[0];
  const files = info.files.map((f) => f.path).sort();
  console.log(`packed ${info.filename}: ${(info.size / 1024).toFixed(0)} KB, ${files.join(', ')}`);
  assert.deepEqual(files, ['LICENSE', 'README.md', 'dist/cli.js', 'package.json']);
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'the package has no runtime dependencies (everything is bundled)');

  // 2. Install offline into an empty project.
  const app = join(work, 'app');
  sh('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke', version: '1.0.0', private: true }));
  sh(npm, ['install', '--offline', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', join(work, info.filename)], { cwd: app });
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.')), [pkg.name], 'nothing but the package was installed');

  // 3. npx wan-video with only Node on PATH (no ffmpeg, no repository).
  const env = { PATH: dirname(process.execPath), HOME: work, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  const version = sh(npx, ['--no-install', 'wan-video', '--version'], { cwd: app, env }).trim();
  assert.equal(version, pkg.version);
  const help = sh(npx, ['--no-install', 'wan-video', '--help'], { cwd: app, env });
  assert.match(help, /^Usage:\n {2}wan-video generate/);
  console.log(`npx wan-video --version → ${version}; --help → ${help.split('\n').length} lines of usage`);
  ok = true;
} catch (e) {
  console.error(`test:pack: ${e instanceof Error ? e.message : e}`);
} finally {
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
console.log(`test:pack ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(ok ? 0 : 1);
