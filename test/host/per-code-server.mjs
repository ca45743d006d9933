// Runs a suite once per code-server version, each in a child process of its own (a fresh server, browser and
// workspace), and closes with one line per version and the total, e.g.
//   integration (VS Code 1.100.3): 41 passed, 0 failed
//   integration (VS Code 1.139.1): 41 passed, 0 failed
//   integration: 82 passed, 0 failed
// The child is the same script with WAN_CODE_SERVER_VERSION set to one version; it must close with
// `<label>: N passed, N failed`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeServerPaths } from './install-code-server.mjs';

/** The VS Code version an installed code-server carries; the code-server version when it is not installed. */
function vscodeVersionOf(version) {
  try {
    return `VS Code ${JSON.parse(readFileSync(join(codeServerPaths(version).pkg, 'lib', 'vscode', 'package.json'), 'utf8')).version}`;
  } catch {
    return `code-server ${version}`;
  }
}

/**
 * @param {string} label    the word before the child's closing line (integration, e2e)
 * @param {string} script   the script to run per version (normally import.meta.filename)
 * @param {string[]} versions
 * @returns {Promise<number>} the exit code: 0 when every version passed
 */
export async function runPerCodeServer(label, script, versions) {
  const closing = new RegExp(`^${label}: (\\d+) passed, (\\d+) failed\\s*$`);
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--code-server='));
  const lines = [];
  let passed = 0;
  let failed = 0;
  for (const version of versions) {
    const t0 = Date.now();
    console.log(`\n##### ${label} on code-server ${version} #####`);
    const { code, out } = await new Promise((resolveRun) => {
      const child = spawn(process.execPath, [script, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, WAN_CODE_SERVER_VERSION: version },
      });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
        process.stdout.write(d);
      });
      child.on('close', (c) => resolveRun({ code: c ?? 1, out: text }));
    });
    const m = out.split('\n').map((l) => closing.exec(l)).filter(Boolean).pop();
    const p = m ? Number(m[1]) : 0;
    const reported = m ? Number(m[2]) : 0;
    // A child that died before its closing line, or failed without counting a failure, counts one.
    const f = (!m || code !== 0) && reported === 0 ? 1 : reported;
    passed += p;
    failed += f;
    lines.push(`${label} (${vscodeVersionOf(version)}): ${p} passed, ${f} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  console.log(`\n${lines.join('\n')}\n${label}: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}
