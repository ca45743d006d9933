// Runs the integration suite in VS Code desktop through @vscode/test-electron
// (selected by `WAN_VSCODE_RUNNER=electron node test/host/run-integration.mjs`).
// It needs a machine that can download VS Code (or WAN_VSCODE_EXECUTABLE pointing at one) and,
// on a Linux machine without a display, a virtual one (e.g. `xvfb-run -a`).
//
// Env: WAN_VSCODE_VERSION (default: the engines minimum's line, 1.100.3; "stable" for the newest),
//      WAN_VSCODE_EXECUTABLE (use this VS Code instead of downloading one).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runTests } from '@vscode/test-electron';

/**
 * @param {{ extensionPath: string, testsPath: string }} opts
 * @returns {Promise<{ ok: boolean, results: any }>} whether VS Code exited cleanly, and the results
 *   file the suite wrote (undefined when it never ran); run-integration.mjs prints them.
 */
export async function runElectron({ extensionPath, testsPath }) {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'wan-electron-'));
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const resultsFile = join(work, 'results.json');
  let ok = false;
  try {
    await runTests({
      version: process.env.WAN_VSCODE_VERSION || '1.100.3',
      ...(process.env.WAN_VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.WAN_VSCODE_EXECUTABLE } : {}),
      extensionDevelopmentPath: extensionPath,
      extensionTestsPath: testsPath,
      // No page to reload here: the reload test falls back to restarting the task engine in place.
      extensionTestsEnv: { WAN_TEST_RESULTS: resultsFile, WAN_EMULATOR_ARGS: '--pending-ms 1500 --running-ms 1000 --idle-exit-minutes 2' },
      launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', workspace],
    });
    ok = true;
  } catch (err) {
    // runTests rejects when VS Code exits non-zero, i.e. when run() rejected (failures) or VS Code failed.
    console.error(`run-electron: ${err instanceof Error ? err.message : err}`);
  }
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : undefined;
  console.log(`integration run (electron) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
  return { ok, results };
}
