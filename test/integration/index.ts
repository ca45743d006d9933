// Mocha entry point that VS Code's extension host calls for `--extensionTestsPath`
// (through @vscode/test-electron, or through code-server's `payload` in test/host/run-integration.mjs).
// It runs every out/test/integration/**/*.test.js file of the current phase and, when the launcher asks
// for it, writes a JSON results file (see test/support/hostMocha.ts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resultsPath, runInHost, type HostResults } from '../support/hostMocha';

export interface IntegrationResults extends HostResults {
  /** A test asked the launcher to reload the window and run the afterReload/ tests. */
  reloadRequested?: boolean;
  phase?: 1 | 2;
}

/**
 * The launcher can reload the window in the middle of the run (code-server: it reloads the page). Phase 1
 * runs every file except those in afterReload/, with beforeReload/ last, so its test hands over right
 * before the reload; phase 2 (the reloaded window) runs afterReload/. The launcher marks phase 2 by
 * moving phase 1's results aside (see run-integration.mjs).
 */
export function isAfterReload(): boolean {
  const out = resultsPath();
  return !!out && existsSync(`${out}.phase1.json`);
}

/** Where a test asks for a reload and leaves what the reloaded window needs to know. */
export function reloadRequestPath(): string | undefined {
  const out = resultsPath();
  return out && process.env.WAN_TEST_RELOAD === '1' ? `${out}.reload.json` : undefined;
}

function findTestFiles(dir: string): string[] {
  const all = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.js')).sort();
  const group = (f: string) => (f.startsWith('afterReload') ? 2 : f.startsWith('beforeReload') ? 1 : 0);
  const phase = isAfterReload() ? [2] : [0, 1];
  const files = all
    .filter((f) => phase.includes(group(f)))
    .sort((a, b) => group(a) - group(b) || a.localeCompare(b))
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no *.test.js files under ${dir}`);
  return files;
}

export function run(): Promise<void> {
  return runInHost<IntegrationResults>({
    files: () => findTestFiles(__dirname),
    // Generous: npm test runs both VS Code versions' suites at once beside the unit suite on 2 cores; a test's
    // own waits (waitFor) say what it waits for, this only catches a hung one.
    timeoutMs: 90_000,
    // WAN_TEST_GREP (inherited like WAN_TEST_RESULTS) runs only the matching tests, for quick iteration.
    grep: process.env.WAN_TEST_GREP || undefined,
    extra: () => ({
      reloadRequested: !isAfterReload() && !!reloadRequestPath() && existsSync(reloadRequestPath()!),
      phase: isAfterReload() ? 2 : 1,
    }),
  });
}
