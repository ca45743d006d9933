// Runs mocha inside a VS Code extension host and writes a JSON results file (counts, titles and the spec
// reporter's text) where WAN_TEST_RESULTS says, because under code-server the extension host runs on the
// server side and its console is not visible to the launcher. Used by the integration and VSIX suites.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/**
 * Where the launcher wants the results. The extension host inherits code-server's environment (verified with
 * code-server 4.100.3 and 4.139.1), and @vscode/test-electron passes it through `extensionTestsEnv`.
 */
export function resultsPath(): string | undefined {
  return process.env.WAN_TEST_RESULTS || undefined;
}

interface TestRecord {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface HostResults {
  passes: number;
  failures: number;
  pending: number;
  tests: TestRecord[];
  /** Each top-level suite's wall time, its hooks (suiteSetup: videos made, panels opened) included. */
  suites?: { title: string; durationMs: number }[];
  report: string;
  durationMs: number;
  vscodeVersion?: string;
  error?: string;
}

function writeResults(file: string | undefined, results: HostResults): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(results, null, 2));
  renameSync(tmp, file); // atomic: the launcher never reads half a file
}

export interface HostRunOptions<R extends HostResults> {
  /** The compiled test files (a throw is reported as the run's error). */
  files: () => string[];
  timeoutMs: number;
  grep?: string;
  /** More fields for the results file, computed when the run ends. */
  extra?: () => Omit<R, keyof HostResults>;
}

export function runInHost<R extends HostResults>(options: HostRunOptions<R>): Promise<void> {
  const started = Date.now();
  const outFile = resultsPath();
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: options.timeoutMs, grep: options.grep });

  // Capture what the spec reporter prints, and still pass it on to the host's console.
  const lines: string[] = [];
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const originalLog = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => {
    lines.push(args.length === 0 ? '' : format(...(args as [unknown, ...unknown[]])));
    originalLog(...args);
  };

  const tests: TestRecord[] = [];
  const suites: { title: string; durationMs: number }[] = [];
  const suiteStarts = new Map<unknown, number>();
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
      const results = {
        passes: tests.filter((t) => t.state === 'passed').length,
        failures,
        pending: tests.filter((t) => t.state === 'pending').length,
        tests,
        suites,
        report: lines.join('\n'),
        durationMs: Date.now() - started,
        vscodeVersion,
        error,
        ...options.extra?.(),
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
      const files = options.files();
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
      runner.on('suite', (s) => {
        if (s.parent?.root) suiteStarts.set(s, Date.now());
      });
      runner.on('suite end', (s) => {
        const at = suiteStarts.get(s);
        if (at !== undefined) suites.push({ title: s.title, durationMs: Date.now() - at });
      });
      runner.on('pending', (t) => tests.push({ title: t.title, fullTitle: t.fullTitle(), state: 'pending' }));
    } catch (err) {
      finish(1, err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
  });
}
