// Mocha entry point for the VSIX smoke test (test/vsix/run-vsix-smoke.mjs passes it as extensionTestsPath).
// The extension under test is the one installed from the VSIX; this suite only drives it. Results go to the
// JSON file named by WAN_TEST_RESULTS (see test/support/hostMocha.ts).
import { join } from 'node:path';
import { runInHost } from '../support/hostMocha';

export function run(): Promise<void> {
  return runInHost({ files: () => [join(__dirname, 'smoke.test.js')], timeoutMs: 60_000 });
}
