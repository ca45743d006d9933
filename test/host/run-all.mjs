// `npm test`: the whole suite as a graph of jobs, each started as soon as what it needs is done, instead of one
// long chain. Most of the suite waits (on code-server and Chromium starting, on emulated tasks, on npm fetching
// code-server), so independent jobs overlap well even on 2 cores:
//   - the code-server installs (network, disk and native builds; minutes on a fresh clone) start first, one
//     version after the other, beside typecheck, lint, the development build and the test compile;
//   - the unit suite, in two shards at once (test/host/unit-shard.mjs), as soon as the build and the compile are done;
//   - the integration, e2e and VSIX suites, one job per VS Code version and script, each with its own
//     code-server (its own port, user-data dir and workspace), at most WAN_TEST_HEAVY_JOBS (default 2) at once,
//     a slot kept for a longer one whose install is still running; the player e2e, which times the player, with no
//     other code-server beside it;
//   - one production build, in a staged copy of the repository (test/host/stage.mjs), so it never rewrites the
//     dist/ that the running VS Code suites load: `vsce package` builds it for the VSIX, and test:pack packs the
//     same copy's CLI bundle (`npm pack --ignore-scripts`).
// Each line of a job's output is prefixed with its name; the end prints one line per job (its result line, when it
// started, its wall time and CPU time, the processes it orphaned included: see tree-cpu.mjs), the CPU of all jobs
// against the cores' time, and the exit code is 1 when any job failed (a job whose prerequisite failed is skipped
// and counts as failed).
//
// Env: WAN_TEST_HEAVY_JOBS (code-server jobs at once, default 2), WAN_TEST_UNIT_SHARDS (unit processes at once,
// default 2; 1 is the old single process), WAN_TEST_ONLY=<regex> (run only the jobs whose
// name matches, with what they need), WAN_TEST_PLAN=1 (print the jobs in the order they are considered, run
// nothing), WAN_TEST_DRY=<factor> (run nothing either: each job waits its secs times the factor, to watch the
// schedule), WAN_KEEP_TMP=1 keeps the staged copy.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './install-code-server.mjs';
import { TreeCpu } from './tree-cpu.mjs';

const node = process.execPath;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Two, measured (tree-cpu.mjs): one integration job's processes burned ~560 CPU seconds (Chromium's renderer about
// a quarter of a core throughout); run in CI's ~740 s that is ~0.75 of a core each, and the unit shards take ~420
// more: the two integration jobs and the unit shards already ask for about 2 cores, so a third code-server beside
// them (tried: WAN_TEST_HEAVY_JOBS=3) only takes CPU from the critical path. See CONTRIBUTING.md.
const HEAVY = Math.max(1, Number(process.env.WAN_TEST_HEAVY_JOBS || 2));
const DRY = Number(process.env.WAN_TEST_DRY) || 0;
/** The longest a code-server job may be (its `secs`) to take a slot kept for a longer job still installing: one e2e job. */
const FILL_S = 210;
const UNIT_SHARDS = Math.max(1, Number(process.env.WAN_TEST_UNIT_SHARDS || 2));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const VSIX = join(REPO_ROOT, `${pkg.name}-${pkg.version}.vsix`);
const stage = mkdtempSync(join(tmpdir(), 'wan-stage-'));

/** The tested VS Code versions: each VS Code-driven suite is one job per version. */
const VERSIONS = ['oldest', 'newest'];

/**
 * The end-to-end scripts (test/e2e/*.e2e.mjs), one job per version each, named `e2e-<name>:<version>`.
 * **Adding an e2e script is one line here**: its name, its path, and `secs`, about how long it takes on one
 * version (it orders the jobs, see below). `alone`: no other code-server job beside it (the player e2e times the
 * player; a loaded machine can miss its figure).
 * @type {{ name: string, script: string, secs: number, alone?: boolean }[]}
 */
const E2E = [
  { name: 'panel', script: 'test/e2e/panel.e2e.mjs', secs: 200 },
  { name: 'player', script: 'test/e2e/player.e2e.mjs', secs: 60, alone: true },
  { name: 'storyboard', script: 'test/e2e/storyboard.e2e.mjs', secs: 165 },
  { name: 'studio', script: 'test/e2e/studio.e2e.mjs', secs: 150 },
];

/**
 * name, the command(s) it runs one after the other, what it needs first (`needs`: passed first; `after`: only
 * finished first, whatever its result), whether it runs a code-server (a "heavy" job: a VS Code server, an extension
 * host and Chromium; an `alone` heavy job runs with no other heavy job beside it), and `secs`: about how long it takes
 * (wall, from the last CI run). The scheduler starts, of the jobs that are ready, the one on the longest remaining
 * path first (its own secs plus the longest chain of jobs waiting on it), and keeps a code-server slot free for each
 * longer code-server job still to come, so the critical path starts as early as it can and short jobs fill the gaps
 * (one e2e job may use a slot kept for a job whose install is still downloading: FILL_S).
 * @typedef {{ name: string, steps: string[][], secs: number, needs?: string[], after?: string[], heavy?: boolean, alone?: boolean, env?: Record<string, string>, cwdOfStep?: string[] }} Job
 * @type {Job[]}
 */
const JOBS = [
  { name: 'tools', secs: 5, steps: [[node, 'test/host/install-code-server.mjs', '--tools-only']] },
  // The installs (a fresh clone: 2-6 minutes each, downloads and native builds; instant when installed) one after
  // the other, oldest first as in .ci/run: two at once share the network and the cores and both end late, while
  // one after the other the first integration suite starts minutes earlier.
  ...VERSIONS.map((v, i) => ({
    name: `install:${v}`, secs: 200, needs: ['tools'], after: VERSIONS.slice(0, i).map((u) => `install:${u}`), steps: [[node, 'test/host/install-code-server.mjs', `--code-server=${v}`]],
  })),
  // The test compile is on the critical path (every suite needs it); lint, typecheck and the production build are
  // not, and each is a whole TypeScript program of its own: they start once it is done, not beside it (all at once
  // on a loaded machine the compile took 196 s instead of about 60).
  { name: 'compile-tests', secs: 65, steps: [[npm, 'run', '-s', 'compile-tests']] },
  { name: 'build', secs: 10, steps: [[node, 'esbuild.mjs']] },
  { name: 'lint', secs: 130, after: ['compile-tests'], steps: [[npm, 'run', '-s', 'lint']] },
  { name: 'typecheck', secs: 65, after: ['compile-tests'], steps: [[npm, 'run', '-s', 'typecheck']] },
  // The unit suite in two shards (test/host/unit-shard.mjs: files split by their last measured time), two
  // processes: much of it waits on emulated tasks, child processes and loopback HTTP, so two overlap well.
  ...Array.from({ length: UNIT_SHARDS }, (_, k) => k + 1).map((i) => ({
    name: `unit:${i}`, secs: Math.round(1200 / UNIT_SHARDS), needs: ['build', 'compile-tests'], steps: [[node, 'test/host/unit-shard.mjs', `${i}/${UNIT_SHARDS}`]],
  })),
  ...VERSIONS.map((v) => ({
    // secs: CI's 732 / 641 s before the integration emulator's 1 s tasks, times the ~0.78 measured with them.
    name: `integration:${v}`, secs: v === 'oldest' ? 570 : 500, heavy: true, needs: ['build', 'compile-tests', `install:${v}`], env: { WAN_CODE_SERVER_VERSION: v }, steps: [[node, 'test/host/run-integration.mjs']],
  })),
  ...E2E.flatMap((e) => VERSIONS.map((v) => ({
    // After the test compile too, which it does not need: a code-server and Chromium starting would slow the compile down.
    name: `e2e-${e.name}:${v}`, secs: e.secs, heavy: true, alone: e.alone, needs: ['build', `install:${v}`], after: ['compile-tests'], env: { WAN_CODE_SERVER_VERSION: v }, steps: [[node, e.script]],
  }))),
  // The production build, for the VSIX and the CLI tarball, in a copy of the repository.
  { name: 'package', secs: 30, after: ['compile-tests'], steps: [[node, 'test/host/stage.mjs', stage], [node, join(REPO_ROOT, 'test/vsix/package.mjs'), VSIX]], cwdOfStep: [REPO_ROOT, stage] },
  { name: 'vsix', secs: 70, heavy: true, needs: ['package', 'compile-tests', 'install:oldest'], steps: [[node, 'test/vsix/run-vsix-smoke.mjs', VSIX]] },
  { name: 'pack', secs: 15, needs: ['package'], env: { WAN_PACK_FROM: stage }, steps: [[node, 'test/pack/run-pack.mjs']] },
];

/** Each job's longest remaining path in seconds: its own time plus the longest chain of jobs that need it or come after it. */
function ranks(jobs) {
  const rank = new Map();
  const of = (job) => {
    if (!rank.has(job.name)) {
      const after = jobs.filter((j) => j.needs?.includes(job.name) || j.after?.includes(job.name)).map(of);
      rank.set(job.name, job.secs + Math.max(0, ...after));
    }
    return rank.get(job.name);
  };
  jobs.forEach(of);
  return rank;
}

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
/** ...plus the CPU of the processes a job orphans (the extension host, the detached emulator), which it cannot see. */
const treeCpu = new TreeCpu();

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
    const tracked = `${job.name} ${cpuFile ?? Date.now()}`;
    treeCpu.track(tracked, child.pid);
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
      cpu += treeCpu.finish(tracked);
      resolveStep({ code: code ?? (signal ? 1 : 0), cpu });
    });
  });
}

async function runJob(job) {
  job.state = 'running';
  job.started = Date.now();
  job.cpu = 0;
  let code = 0;
  // WAN_TEST_DRY=<factor>: each job only waits its secs times the factor, to watch the schedule in seconds; in this
  // process (a child process per job added a second or more each on a loaded machine, which the factor multiplied).
  if (DRY) await new Promise((r) => setTimeout(r, job.secs * DRY * 1000));
  for (const [i, argv] of (DRY ? [] : job.steps).entries()) {
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
  const rank = ranks(selected());
  // Longest remaining path first; an `alone` job only once no other heavy job is left to start (it would hold
  // every heavy slot while it runs), so in practice last.
  const order = (j) => (j.alone ? -1e6 : 0) + rank.get(j.name);
  const jobs = selected()
    .map((j) => ({ ...j, state: 'waiting', lines: [] }))
    .sort((a, b) => order(b) - order(a));
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const ready = (job) => (job.needs ?? []).every((n) => byName.get(n)?.state === 'passed');
  if (process.env.WAN_TEST_PLAN) {
    for (const j of jobs) console.log(`${j.name.padEnd(width)}  ~${String(j.secs).padStart(4)} s, path ~${String(rank.get(j.name)).padStart(4)} s${j.heavy ? ', code-server' : ''}${j.alone ? ', alone' : ''}${j.needs ? `; needs ${j.needs.join(', ')}` : ''}${j.after?.length ? `; after ${j.after.join(', ')}` : ''}`);
    return 0;
  }
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
        if ((job.after ?? []).some((n) => ['waiting', 'running'].includes(byName.get(n)?.state))) continue;
        const heavyRunning = [...running].filter((j) => j.heavy);
        if (job.heavy && (heavyRunning.length >= HEAVY || heavyRunning.some((j) => j.alone) || (job.alone && heavyRunning.length > 0))) continue;
        // An `alone` job would hold every code-server slot: not while another code-server job is still to come.
        if (job.alone && jobs.some((j) => j.heavy && !j.alone && j.state === 'waiting')) continue;
        // A code-server slot is kept for each longer code-server job still to come: a short job started now would
        // hold the slot the critical path needs when it gets ready (in CI an e2e job once took the slot
        // integration:oldest needed 20 s later, and the integration waited 6 minutes). A job of at most FILL_S may
        // still take a slot kept for one whose install is not done: in CI the second download took 125-233 s after
        // the first, and the slot stood idle all that time while one e2e job fits in it.
        const kept = jobs.filter((j) => j !== job && j.heavy && !j.alone && j.state === 'waiting' && rank.get(j.name) > rank.get(job.name) && (job.secs > FILL_S || ready(j)));
        if (job.heavy && !job.alone && HEAVY - heavyRunning.length - 1 < kept.length) continue;
        running.add(job);
        console.log(`[${job.name.padEnd(width)}] started at ${secs(Date.now() - t0)}`);
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
    const time = j.ms !== undefined ? `from ${secs(j.started - t0).padStart(6)}, ${secs(j.ms).padStart(6)}, CPU ${`${j.cpu.toFixed(0)} s`.padStart(6)}` : ''.padStart(32);
    console.log(`${j.state === 'passed' ? 'ok  ' : 'FAIL'} ${j.name.padEnd(width)}  ${time}  ${resultLine(j)}`);
  }
  const cpu = jobs.reduce((n, j) => n + (j.cpu ?? 0), 0);
  const wall = (Date.now() - t0) / 1000;
  console.log(`\nCPU of all jobs: ${cpu.toFixed(0)} s, ${((100 * cpu) / (cpus().length * wall)).toFixed(0)}% of the ${cpus().length} cores over the ${wall.toFixed(0)} s`);
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
