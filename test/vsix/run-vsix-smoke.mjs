// npm run test:vsix: installs the production VSIX into code-server offline and runs the smoke suite
// (test/vsix/smoke.test.ts) against the INSTALLED extension. On the oldest supported version only (VS Code 1.100.3,
// `--code-server=…` or WAN_CODE_SERVER_VERSION for another): what it checks is the package (its files, its
// offline install, its bundled emulator), and the oldest is also where engines.vscode is put to the test; the
// integration and e2e suites cover the extension's behaviour on both versions.
//
// 1. The VSIX: the path given as the first argument (e.g. the CI's artifact), else <name>-<version>.vsix,
//    built now with `npm run package` (so it is never stale).
// 2. `code-server --install-extension <vsix>` into a fresh extensions folder, with HTTP(S)_PROXY pointing at a
//    closed port so any network access would fail: the install is offline.
// 3. code-server starts with that extensions folder. The workbench payload's extensionDevelopmentPath is an
//    empty harness extension (another ID), so the repository is NOT loaded as an extension; the payload's
//    extensionTestsPath is out/test/vsix/index.js, which drives the installed extension through its commands.
//    The emulator is started by the installed extension from its own dist/emulator.js.
//
// Env: WAN_TEST_TIMEOUT_MS (default 600000), WAN_KEEP_TMP=1, WAN_DEBUG=1 (code-server and browser output).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWorkbenchBrowser, browserErrorsNote } from '../host/browser.mjs';
import { codeServerVersions, installCodeServer, REPO_ROOT } from '../host/install-code-server.mjs';

const t0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const debug = !!process.env.WAN_DEBUG;
const OVERALL_TIMEOUT_MS = Number(process.env.WAN_TEST_TIMEOUT_MS || 600_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const givenVsix = process.argv.slice(2).find((a) => !a.startsWith('--'));
const vsix = givenVsix ?? join(REPO_ROOT, `${pkg.name}-${pkg.version}.vsix`);
const testsPath = join(REPO_ROOT, 'out', 'test', 'vsix', 'index.js');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
  return r;
}

if (!givenVsix) {
  console.log(`test:vsix: building ${vsix}`);
  run(process.execPath, [join(REPO_ROOT, 'test', 'vsix', 'package.mjs'), vsix]);
}
if (!existsSync(vsix)) throw new Error(`${vsix} does not exist`);
if (!existsSync(testsPath)) run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.test.json']);

const [version, ...more] = codeServerVersions('oldest');
if (more.length) throw new Error('test:vsix runs on one code-server version at a time');
const install = installCodeServer({ version, chromium: true });
const work = mkdtempSync(join(tmpdir(), 'wan-vsix-'));
const extensionsDir = join(work, 'extensions');
const workspace = join(work, 'workspace');
const harness = join(work, 'harness');
const resultsFile = join(work, 'results.json');
for (const d of [extensionsDir, workspace, harness]) mkdirSync(d, { recursive: true });
writeFileSync(
  join(harness, 'package.json'),
  JSON.stringify({ name: 'vsix-smoke-harness', publisher: 'wan-studio-tests', version: '0.0.0', engines: { vscode: '^1.100.0' } }),
);

let code;
/** @type {any} */
let server;
/** @type {import('playwright-core').Browser | undefined} */
let browser;
try {
  // 2. Offline install.
  const installStart = Date.now();
  const dead = 'http://127.0.0.1:9';
  const r = spawnSync(
    install.node,
    [install.entry, '--extensions-dir', extensionsDir, '--user-data-dir', join(work, 'install-user-data'), '--install-extension', vsix],
    { encoding: 'utf8', env: { ...process.env, HTTP_PROXY: dead, HTTPS_PROXY: dead, http_proxy: dead, https_proxy: dead, NO_PROXY: '' } },
  );
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`--install-extension failed with exit code ${r.status}`);
  const installed = readdirSync(extensionsDir).filter((d) => d.startsWith(`${pkg.publisher}.${pkg.name}-`));
  if (installed.length !== 1) throw new Error(`expected one installed ${pkg.publisher}.${pkg.name}, found: ${readdirSync(extensionsDir).join(', ')}`);
  console.log(`installed ${installed[0]} offline in ${secs(Date.now() - installStart)}`);

  // 3. The smoke suite against the installed copy.
  const { startCodeServer, workbenchUrl } = await import('../host/code-server.mjs');
  server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    extensionsDir,
    env: {
      WAN_TEST_RESULTS: resultsFile,
      WAN_VSIX_EXTENSIONS_DIR: extensionsDir,
      WAN_EMULATOR_ARGS: '--pending-ms 500 --running-ms 1500 --idle-exit-minutes 5',
    },
    inheritOutput: debug,
  });
  const launched = await launchWorkbenchBrowser({ executablePath: install.chromium });
  browser = launched.browser;
  const { page, errors: browserErrors } = launched;
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: harness, extensionTestsPath: testsPath }), {
    waitUntil: 'domcontentloaded',
  });
  const suiteStart = Date.now();
  while (!existsSync(resultsFile)) {
    if (Date.now() - t0 > OVERALL_TIMEOUT_MS) {
      throw new Error(`no results after ${secs(OVERALL_TIMEOUT_MS)}${browserErrorsNote(browserErrors)}`);
    }
    await sleep(250);
  }
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  console.log(`VS Code ${results.vscodeVersion} extension host\n${results.report}`);
  console.log(`\nvsix smoke: ${results.passes} passed, ${results.failures} failed (suite ${secs(Date.now() - suiteStart)})`);
  code = results.failures === 0 && results.passes > 0 ? 0 : 1;
  if (code !== 0) console.error(`\n--- code-server log (tail) ---\n${server.logTail(80)}`);
} catch (err) {
  console.error(`test:vsix: ${err instanceof Error ? err.message : err}`);
  if (server) console.error(`\n--- code-server log (tail) ---\n${server.logTail(80)}`);
  code = 1;
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
console.log(`test:vsix took ${secs(Date.now() - t0)}`);
process.exit(code);
