// One shard of the unit suite: `node test/host/unit-shard.mjs 1/2` runs the first of two groups of the compiled
// unit test files (out/test/unit/**/*.test.js) in one mocha process, with test/unit/.mocharc.json's options.
// npm test runs the shards as jobs of their own, at the same time: much of the suite waits (emulated tasks, the CLI
// and ffmpeg as child processes, loopback HTTP), so two processes overlap well even on 2 cores.
//
// The files are split by their last measured time (test/unit/times.json: seconds per file; a file not listed
// counts as DEFAULT_SECS), longest first, each to the shard with the least so far. Refresh the table from a run's
// mocha JSON report when the suite changes a lot (see CONTRIBUTING.md). `--list` prints the groups; other
// arguments go to mocha.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './install-code-server.mjs';

const DEFAULT_SECS = 10;
const OUT = join(REPO_ROOT, 'out', 'test', 'unit');

/** The compiled unit test files in `n` groups of about equal measured time. */
export function unitShards(n) {
  const times = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'unit', 'times.json'), 'utf8'));
  const files = readdirSync(OUT, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => ({ file: join(OUT, f), secs: times[f.replace(/\.js$/, '.ts')] ?? DEFAULT_SECS }))
    .sort((a, b) => b.secs - a.secs || a.file.localeCompare(b.file));
  const shards = Array.from({ length: n }, () => ({ secs: 0, files: [] }));
  for (const f of files) {
    const least = shards.reduce((a, b) => (b.secs < a.secs ? b : a));
    least.secs += f.secs;
    least.files.push(f.file);
  }
  return shards;
}

const [which, list] = [process.argv[2] ?? '1/1', process.argv.includes('--list')];
const m = /^(\d+)\/(\d+)$/.exec(which);
if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
  console.error('usage: node test/host/unit-shard.mjs <i>/<n> [--list]');
  process.exit(2);
}
const shards = unitShards(Number(m[2]));
if (list) {
  shards.forEach((s, i) => console.log(`${i + 1}/${m[2]} (~${s.secs} s): ${s.files.map((f) => f.slice(OUT.length + 1)).join(' ')}`));
  process.exit(0);
}
const shard = shards[Number(m[1]) - 1];
if (shard.files.length === 0) {
  console.log('unit: 0 passed, 0 failed (an empty shard)');
  process.exit(0);
}
const config = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'unit', '.mocharc.json'), 'utf8'));
const mocha = join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
// Further arguments go to mocha (e.g. --grep 'a title').
const extra = process.argv.slice(3).filter((a) => a !== '--list');
const args = ['--no-config', '--timeout', String(config.timeout), '--reporter', config.reporter, ...(config['enable-source-maps'] ? ['--enable-source-maps'] : []), ...extra, ...shard.files];
const child = spawn(process.execPath, [mocha, ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
