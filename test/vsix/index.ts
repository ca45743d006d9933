// Mocha entry point for the VSIX smoke test (test/vsix/run-vsix-smoke.mjs passes it as extensionTestsPath).
// The extension under test is the one installed from the VSIX; this suite only drives it. Results go to the
// JSON file named by WAN_TEST_RESULTS (the extension host runs on code-server's side, out of the launcher's sight).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const started = Date.now();
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 60_000 });
  const lines: string[] = [];
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const originalLog = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => {
    lines.push(args.length === 0 ? '' : format(...(args as [unknown, ...unknown[]])));
    originalLog(...args);
  };
  mocha.addFile(join(__dirname, 'smoke.test.js'));
  return new Promise<void>((resolve, reject) => {
    let passes = 0;
    const runner = mocha.run((failures) => {
      base.consoleLog = originalLog;
      const out = process.env.WAN_TEST_RESULTS;
      if (out) {
        mkdirSync(dirname(out), { recursive: true });
        const results = { passes, failures, report: lines.join('\n'), durationMs: Date.now() - started, vscodeVersion: vscode.version };
        writeFileSync(`${out}.tmp`, JSON.stringify(results, null, 2));
        renameSync(`${out}.tmp`, out);
      }
      if (failures > 0) reject(new Error(`${failures} smoke tests failed`));
      else resolve();
    });
    runner.on('pass', () => passes++);
  });
}
