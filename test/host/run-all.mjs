// `npm test`: the whole suite as a graph of jobs, each started as soon as what it needs is done, instead of one
// long chain. Most of the suite waits (on code-server and Chromium starting, on emulated tasks, on npm fetching
// code-server), so independent jobs overlap well even on 2 cores:
//   - the code-server installs (network and disk; minutes on a fresh clone) start first, beside typecheck, lint,
//     the development build and the test compile;
//   - the unit suite runs as soon as the build and the compile are done;
//   - the integration, e2e and VSIX suites, one job per VS Code version and script, each with its own
//     code-server (its own port, user-data dir and workspace), at most WAN_TEST_HEAVY_JOBS (default 2) at once;
//     the player e2e, which times the player, with no other code-server beside it;
//   - one production build, in a staged copy of the repository (test/host/stage.mjs), so it never rewrites the
//     dist/ that the running VS Code suites load: `vsce package` builds it for the VSIX, and test:pack packs the
//     same copy's CLI bundle (`npm pack --ignore-scripts`).
// Each line of a job's output is prefixed with its name; the end prints one line per job (its result line, its
// wall time and CPU time) and the exit code is 1 when any job failed (a job whose prerequisite failed is skipped
// and counts as failed).
//
// Env: WAN_TEST_HEAVY_JOBS (code-server jobs at once, default 2), WAN_TEST_ONLY=<regex> (run only the jobs whose
// name matches, with what they need), WAN_KEEP_TMP=1 keeps the staged copy.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './install-code-server.mjs';

const node = process.execPath;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const HEAVY = Math.max(1, Number(process.env.WAN_TEST_HEAVY_JOBS || 2));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const VSIX = join(REPO_ROOT, `${pkg.name}-${pkg.version}.vsix`);
const stage = mkdtempSync(join(tmpdir(), 'wan-stage-'));

/**
 * name, the command(s) it runs one after the other, what it needs first, and whether it runs a code-server
 * (a "heavy" job: a VS Code server, an extension host and Chromium); an `alone` heavy job runs with no other
 * heavy job beside it (so it waits until none runs: in practice, last).
 * @typedef {{ name: string, steps: string[][], needs?: string[], heavy?: boolean, alone?: boolean, env?: Record<string, string>, cwdOfStep?: string[] }} Job
 * @type {Job[]}
 */
const JOBS = [
  // Longest first within each kind: the scheduler starts ready jobs in this order.
  { name: 'tools', steps: [[node, 'test/host/install-code-server.mjs', '--tools-only']] },
  { name: 'install:newest', needs: ['tools'], steps: [[node, 'test/host/install-code-server.mjs', '--code-server=newest']] },
  { name: 'install:oldest', needs: ['tools'], steps: [[node, 'test/host/install-code-server.mjs', '--code-server=oldest']] },
  { name: 'lint', steps: [[npm, 'run', '-s', 'lint']] },
  { name: 'compile-tests', steps: [[npm, 'run', '-s', 'compile-tests']] },
  { name: 'build', steps: [[node, 'esbuild.mjs']] },
  { name: 'typecheck', steps: [[npm, 'run', '-s', 'typecheck']] },
  { name: 'unit', needs: ['build', 'compile-tests'], steps: [[npm, 'run', '-s', 'test:unit']] },
  ...['oldest', 'newest'].flatMap((v) => [
    { name: `integration:${v}`, heavy: true, needs: ['build', 'compile-tests', `install:${v}`], env: { WAN_CODE_SERVER_VERSION: v }, steps: [[node, 'test/host/run-integration.mjs']] },
    { name: `e2e-panel:${v}`, heavy: true, needs: ['build', `install:${v}`], env: { WAN_CODE_SERVER_VERSION: v }, steps: [[node, 'test/e2e/panel.e2e.mjs']] },
  ]),
  // The production build, for the VSIX and the CLI tarball, in a copy of the repository.
  { name: 'package', steps: [[node, 'test/host/stage.mjs', stage], [node, join(REPO_ROOT, 'test/vsix/package.mjs'), VSIX]], cwdOfStep: [REPO_ROOT, stage] },
  { name: 'vsix', heavy: true, needs: ['package', 'compile-tests', 'install:oldest'], steps: [[node, 'test/vsix/run-vsix-smoke.mjs', VSIX]] },
  // Alone: it holds the player to showing a video within 5 s of the click, a figure a loaded machine can miss.
  ...['oldest', 'newest'].map((v) => ({
    name: `e2e-player:${v}`, heavy: true, alone: true, needs: ['build', `install:${v}`], env: { WAN_CODE_SERVER_VERSION: v }, steps: [[node, 'test/e2e/player.e2e.mjs']],
  })),
  { name: 'pack', needs: ['package'], env: { WAN_PACK_FROM: stage }, steps: [[node, 'test/pack/run-pack.mjs']] },
];

/** The jobs WAN_TEST_ONLY asks for, with everything they need. */
function selected() {
  const only = process.env.WAN_TEST_ONLY ? new RegExp(process.env.WAN_TEST_ONLY) : undefined;
  if (!only) return JOBS;
  const byName = new Map(JOBS.map((j) => [j.name, j]));
  const keep = new Set();
  const add = (name) => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const n of byName.get(name)?.needs ?? []) add(n);
  };
  for (const j of JOBS) if (only.test(j.name)) add(j.name);
  return JOBS.filter((j) => keep.has(j.name));
}

const secs = (ms) => `${(ms / 1000).toFixed(0)} s`;
const width = Math.max(...JOBS.map((j) => j.name.length));
/** /usr/bin/time reports a job's CPU time (user + system, its children included) where it is installed. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** The commands running now: a stop signal is passed on to them (each launcher stops its own code-server). */
const children = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`npm test: ${signal}, stopping ${children.size} running job(s)`);
    for (const c of children) {
      try {
        process.kill(-c.pid, signal); // its process group: /usr/bin/time passes no signal on
      } catch {
        /* gone */
      }
    }
    const exit = () => {
      if (!process.env.WAN_KEEP_TMP) rmSync(stage, { recursive: true, force: true });
      process.exit(130);
    };
    if (children.size === 0) exit();
    setInterval(() => children.size === 0 && exit(), 200);
    setTimeout(exit, 20_000).unref();
  });
}

/** Runs one command of a job, its lines prefixed with the job's name; resolves with its exit code and CPU seconds. */
function runStep(job, argv, cwd) {
  return new Promise((resolveStep) => {
    const cpuFile = TIME ? join(stage, `.cpu-${job.name.replace(/\W/g, '_')}-${Date.now()}`) : undefined;
    const [cmd, ...args] = TIME ? [TIME, '-q', '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...job.env },
      // A process group of its own, so a stop signal reaches the command under /usr/bin/time (see above).
      detached: true,
    });
    children.add(child);
    child.on('close', () => children.delete(child));
    const prefix = `[${job.name.padEnd(width)}] `;
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          out.write(`${prefix}${line}\n`);
          job.lines.push(line);
        }
      });
      stream.on('end', () => {
        if (partial) {
          out.write(`${prefix}${partial}\n`);
          job.lines.push(partial);
        }
      });
    }
    child.on('error', (err) => {
      job.lines.push(`could not start ${argv[0]}: ${err.message}`);
      resolveStep({ code: 1, cpu: 0 });
    });
    child.on('close', (code, signal) => {
      let cpu = 0;
      try {
        cpu = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number).reduce((a, b) => a + b, 0);
      } catch {
        /* no /usr/bin/time */
      }
      resolveStep({ code: code ?? (signal ? 1 : 0), cpu });
    });
  });
}

async function runJob(job) {
  job.state = 'running';
  job.started = Date.now();
  job.cpu = 0;
  let code = 0;
  for (const [i, argv] of job.steps.entries()) {
    const r = await runStep(job, argv, job.cwdOfStep?.[i] ?? REPO_ROOT);
    job.cpu += r.cpu;
    code = r.code;
    if (code !== 0) break;
  }
  job.ms = Date.now() - job.started;
  job.state = code === 0 ? 'passed' : 'failed';
}

/** The line that says how a job went: the last "N passed, N failed" line it printed, else its last line. */
function resultLine(job) {
  const counted = job.lines.filter((l) => /\d+ passed, \d+ failed/.test(l) || /^test:pack (passed|FAILED)/.test(l)).pop();
  return (counted ?? job.lines.filter((l) => l.trim()).pop() ?? '(no output)').trim().slice(0, 140);
}

async function main() {
  const t0 = Date.now();
  const jobs = selected().map((j) => ({ ...j, state: 'waiting', lines: [] }));
  const byName = new Map(jobs.map((j) => [j.name, j]));
  console.log(`npm test: ${jobs.length} jobs, up to ${HEAVY} code-server jobs at once`);
  await new Promise((allDone) => {
    const running = new Set();
    const schedule = () => {
      for (const job of jobs) {
        if (job.state !== 'waiting') continue;
        const needs = (job.needs ?? []).map((n) => byName.get(n)).filter(Boolean);
        const broken = needs.find((n) => n.state === 'failed' || n.state === 'skipped');
        if (broken) {
          job.state = 'skipped';
          job.lines.push(`skipped: ${broken.name} ${broken.state}`);
          console.log(`[${job.name.padEnd(width)}] skipped: ${broken.name} ${broken.state}`);
          continue;
        }
        if (!needs.every((n) => n.state === 'passed')) continue;
        const heavyRunning = [...running].filter((j) => j.heavy);
        if (job.heavy && (heavyRunning.length >= HEAVY || heavyRunning.some((j) => j.alone) || (job.alone && heavyRunning.length > 0))) continue;
        running.add(job);
        void runJob(job).then(() => {
          running.delete(job);
          console.log(`[${job.name.padEnd(width)}] ${job.state} in ${secs(job.ms)} (CPU ${job.cpu.toFixed(0)} s)`);
          schedule();
        });
      }
      // A skip can unblock nothing new, so one pass settles the skips; done when nothing runs or waits.
      if (jobs.some((j) => j.state === 'waiting' && (j.needs ?? []).some((n) => ['failed', 'skipped'].includes(byName.get(n)?.state)))) return schedule();
      if (running.size === 0) allDone(undefined);
    };
    schedule();
  });

  const failed = jobs.filter((j) => j.state !== 'passed');
  console.log(`\n===== npm test: ${secs(Date.now() - t0)} =====`);
  for (const j of jobs) {
    const time = j.ms !== undefined ? `${secs(j.ms).padStart(6)}, CPU ${`${j.cpu.toFixed(0)} s`.padStart(6)}` : ''.padStart(19);
    console.log(`${j.state === 'passed' ? 'ok  ' : 'FAIL'} ${j.name.padEnd(width)}  ${time}  ${resultLine(j)}`);
  }
  console.log(failed.length ? `\n${failed.length} of ${jobs.length} jobs failed: ${failed.map((j) => j.name).join(', ')}` : `\nall ${jobs.length} jobs passed`);
  return failed.length ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} finally {
  if (!process.env.WAN_KEEP_TMP) rmSync(stage, { recursive: true, force: true });
}
process.exit(exitCode);
