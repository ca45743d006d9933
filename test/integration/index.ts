// Mocha entry point that VS Code's extension host calls for `--extensionTestsPath`
// (through @vscode/test-electron, or through code-server's `payload` in test/host/run-integration.mjs).
// It runs every out/test/integration/**/*.test.js file and, when the launcher asks for it, writes a
// JSON results file (counts, titles and the spec reporter's text), because under code-server the
// extension host runs on the server side and its console is not visible to the launcher.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/**
 * Where the launcher wants the results. The extension host inherits code-server's environment (verified with
 * code-server 4.100.3), and @vscode/test-electron passes it through `extensionTestsEnv`.
 */
function resultsPath(): string | undefined {
  return process.env.WAN_TEST_RESULTS || undefined;
}

interface TestRecord {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface IntegrationResults {
  passes: number;
  failures: number;
  pending: number;
  tests: TestRecord[];
  report: string;
  durationMs: number;
  vscodeVersion?: string;
  error?: string;
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
  return all
    .filter((f) => phase.includes(group(f)))
    .sort((a, b) => group(a) - group(b) || a.localeCompare(b))
    .map((f) => join(dir, f));
}

function writeResults(file: string | undefined, results: IntegrationResults): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(results, null, 2));
  renameSync(tmp, file); // atomic: the launcher never reads half a file
}

export function run(): Promise<void> {
  const started = Date.now();
  const outFile = resultsPath();
  // WAN_TEST_GREP (inherited like WAN_TEST_RESULTS) runs only the matching tests, for quick iteration.
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 30_000, grep: process.env.WAN_TEST_GREP || undefined });

  // Capture what the spec reporter prints, and still pass it on to the host's console.
  const lines: string[] = [];
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const originalLog = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => {
    lines.push(args.length === 0 ? '' : format(...(args as [unknown, ...unknown[]])));
    originalLog(...args);
  };

  const tests: TestRecord[] = [];
  let vscodeVersion: string | undefined;
  try {
    // Loaded lazily: this runner also starts outside an extension host, where there is no vscode module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    vscodeVersion = (require('vscode') as typeof import('vscode')).version;
  } catch {
    /* not in an extension host */
  }

  return new Promise<void>((resolve, reject) => {
    const finish = (failures: number, error?: string) => {
      base.consoleLog = originalLog;
      const results: IntegrationResults = {
        passes: tests.filter((t) => t.state === 'passed').length,
        failures,
        pending: tests.filter((t) => t.state === 'pending').length,
        tests,
        report: lines.join('\n'),
        durationMs: Date.now() - started,
        vscodeVersion,
        error,
        reloadRequested: !isAfterReload() && !!reloadRequestPath() && existsSync(reloadRequestPath()!),
        phase: isAfterReload() ? 2 : 1,
      };
      try {
        writeResults(outFile, results);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (error) reject(new Error(error));
      else if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    };
    try {
      const files = findTestFiles(__dirname);
      if (files.length === 0) throw new Error(`no *.test.js files under ${__dirname}`);
      for (const f of files) mocha.addFile(f);
      const runner = mocha.run((failures) => finish(failures));
      runner.on('pass', (t) => tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'passed', durationMs: t.duration }));
      runner.on('fail', (t, err: unknown) =>
        tests.push({
          title: t.title,
          fullTitle: t.fullTitle(),
          state: 'failed',
          durationMs: t.duration,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
      );
      runner.on('pending', (t) => tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'pending' }));
    } catch (err) {
      finish(1, err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
  });
}
