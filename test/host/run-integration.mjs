// Runs the integration suite (out/test/integration) inside a real VS Code extension host.
//
// Default: headless, through code-server (a VS Code server + web workbench) and Debian's chromium driven by
// playwright-core, once on each tested version (the oldest supported and the newest, see install-code-server.mjs);
// `--code-server=oldest|newest|<version>` or WAN_CODE_SERVER_VERSION runs one. The workbench URL carries extensionDevelopmentPath / extensionTestsPath in
// its `payload`, so the server's extension host loads this repository as the extension under development
// and calls test/integration/index.js's run(). That runs on the server side, so it writes its results to
// a file (WAN_TEST_RESULTS, inherited by the extension host from code-server's environment) which this
// launcher waits for and prints.
//
// WAN_VSCODE_RUNNER=electron runs the same suite through @vscode/test-electron (VS Code desktop) instead.
//
// Prerequisites: `node esbuild.mjs` (dist/extension.js) and `npm run compile-tests` (out/test/integration).
// A test can ask for a real window reload (test/integration/beforeReload/): the suite's results then say
// `reloadRequested`, this launcher moves them aside (which tells the reloaded window it is phase 2),
// reloads the page, and waits for the reloaded window's results (test/integration/afterReload/).
//
// The bundled emulator runs detached (it outlives reloads); the test run gives it test timings through
// WAN_EMULATOR_ARGS, and code-server.mjs stops it with the server.
//
// Env: WAN_TEST_TIMEOUT_MS (overall, default 1200000), WAN_KEEP_TMP=1 keeps the temp dirs, WAN_DEBUG=1 echoes
// code-server and browser output.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchWorkbenchBrowser, browserErrorsNote } from './browser.mjs';
import { codeServerVersions, installCodeServer, REPO_ROOT } from './install-code-server.mjs';
import { runPerCodeServer } from './per-code-server.mjs';

const EXTENSION_PATH = REPO_ROOT;
const TESTS_PATH = join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');
// Generous: npm test runs it beside other suites on a 2-core machine; it guards a hung run, not a slow one.
const OVERALL_TIMEOUT_MS = Number(process.env.WAN_TEST_TIMEOUT_MS || 1_200_000);
/**
 * Emulator timings for the suite: short, so the ~11 waits on a task end each take one of the poll schedule's early
 * polls (2, 5 s) rather than its 10 s steps (a 10 s run was seen at about 20 s). The tests that must see or keep a
 * task RUNNING (the walk, the reload) hold it there with the emulator's hold control.
 */
const TEST_EMULATOR_ARGS = '--pending-ms 1500 --running-ms 1000 --idle-exit-minutes 10';
const debug = !!process.env.WAN_DEBUG;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function checkBuilt() {
  const missing = [];
  if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) missing.push('dist/extension.js (run: node esbuild.mjs)');
  if (!existsSync(TESTS_PATH)) missing.push('out/test/integration/index.js (run: npm run compile-tests)');
  if (missing.length) {
    console.error(`run-integration: missing ${missing.join(' and ')}`);
    process.exit(2);
  }
}

/** Where the time went: the slowest suites (hooks included) and tests, to see what to make faster. */
function printSlowest(results) {
  const s = (ms) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
  const suites = [...(results.suites ?? [])].sort((a, b) => b.durationMs - a.durationMs);
  if (suites.length) console.log(`\nsuites by time (${s(suites.reduce((n, x) => n + x.durationMs, 0)).trim()} in all):\n${suites.map((x) => `  ${s(x.durationMs)}  ${x.title}`).join('\n')}`);
  const tests = (results.tests ?? []).filter((t) => t.durationMs !== undefined).sort((a, b) => b.durationMs - a.durationMs).slice(0, 10);
  if (tests.length) console.log(`slowest tests:\n${tests.map((t) => `  ${s(t.durationMs)}  ${t.fullTitle.slice(0, 120)}`).join('\n')}`);
}

/** Prints the suite's report(s) and the summary line; returns the exit code. */
function printResults(...phases) {
  let passed = 0;
  let failed = 0;
  let error = false;
  for (const results of phases) {
    if (phases.length > 1) console.log(`\n=== ${results.phase === 2 ? 'after the window reload' : 'before the window reload'} ===`);
    if (results.vscodeVersion) console.log(`VS Code ${results.vscodeVersion} extension host`);
    console.log(results.report || '(no reporter output)');
    if (results.error) console.log(`\nsuite error: ${results.error}`);
    printSlowest(results);
    failed += results.failures ?? 0;
    passed += results.passes ?? 0;
    error ||= !!results.error;
  }
  console.log(`\nintegration: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 && !error ? 0 : 1;
}

async function runInCodeServer(version) {
  const t0 = Date.now();
  const install = installCodeServer({ version, chromium: true });
  console.log(`code-server ${version} (VS Code ${install.vscodeVersion}) ${install.installed ? `installed in ${(install.ms / 1000).toFixed(1)} s` : 'already installed'}`);

  const { startCodeServer, workbenchUrl } = await import('./code-server.mjs');

  const work = mkdtempSync(join(tmpdir(), 'wan-integration-'));
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const resultsFile = join(work, 'results.json');

  /** @type {Awaited<ReturnType<typeof startCodeServer>> | undefined} */
  let server;
  /** @type {import('playwright-core').Browser | undefined} */
  let browser;
  let code = 1;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
    if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
  };
  const onSignal = async () => {
    await cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    server = await startCodeServer({
      codeServer: install,
      folder: workspace,
      env: { WAN_TEST_RESULTS: resultsFile, WAN_TEST_RELOAD: '1', WAN_EMULATOR_ARGS: TEST_EMULATOR_ARGS },
      inheritOutput: debug,
    });
    console.log(`code-server up on ${server.url} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const launched = await launchWorkbenchBrowser({ executablePath: install.chromium });
    browser = launched.browser;
    const { page, errors: browserErrors } = launched;
    const url = workbenchUrl(server.url, server.port, workspace, {
      extensionDevelopmentPath: EXTENSION_PATH,
      extensionTestsPath: TESTS_PATH,
    });
    if (debug) console.log(`open ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded' });

    const deadline = t0 + OVERALL_TIMEOUT_MS;
    let serverGone = false;
    server.exited.then(() => (serverGone = true));
    const waitForResults = async () => {
      while (!existsSync(resultsFile)) {
        if (serverGone) throw new Error('code-server exited before the tests reported results');
        if (Date.now() > deadline) {
          throw new Error(`no test results after ${OVERALL_TIMEOUT_MS / 1000} s${browserErrorsNote(browserErrors)}`);
        }
        await sleep(250);
      }
      return JSON.parse(readFileSync(resultsFile, 'utf8'));
    };
    const results = await waitForResults();
    const phases = [results];
    if (results.reloadRequested) {
      // The marker the reloaded window looks for: phase 1's results, moved aside.
      renameSync(resultsFile, `${resultsFile}.phase1.json`);
      const reloadAt = Date.now();
      await page.reload({ waitUntil: 'domcontentloaded' });
      const after = await waitForResults();
      console.log(`window reloaded; the second phase reported after ${((Date.now() - reloadAt) / 1000).toFixed(1)} s`);
      phases.push(after);
    }
    code = printResults(...phases);
    console.log(`integration run took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (code !== 0) console.error(`\n--- code-server log (tail) ---\n${server.logTail(80)}`);
  } catch (err) {
    console.error(`run-integration: ${err instanceof Error ? err.message : err}`);
    if (server) console.error(`\n--- code-server log (tail) ---\n${server.logTail(80)}`);
    console.log('\n0 passed, 1 failed');
    code = 1;
  } finally {
    await cleanup();
  }
  return code;
}

checkBuilt();
let exitCode;
const versions = codeServerVersions('all');
if ((process.env.WAN_VSCODE_RUNNER || 'code-server') === 'electron') {
  const { runElectron } = await import('./run-electron.mjs');
  const { ok, results } = await runElectron({ extensionPath: EXTENSION_PATH, testsPath: TESTS_PATH });
  if (results) {
    exitCode = printResults(results);
    if (!ok) exitCode = 1;
  } else {
    console.log('\n0 passed, 1 failed');
    exitCode = 1;
  }
} else if (versions.length > 1) {
  exitCode = await runPerCodeServer('integration', import.meta.filename, versions);
} else {
  exitCode = await runInCodeServer(versions[0]);
}
process.exit(exitCode);
