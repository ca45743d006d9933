// `npm start`: the extension in a real VS Code (code-server's web workbench, the newest tested version unless
// `--code-server=oldest|<version>` or WAN_CODE_SERVER_VERSION says otherwise), ready to use in a browser.
// Installs code-server if needed, builds the extension, opens a demo workspace (.cache/demo-workspace,
// seeded from media/samples/ when present) with this repository loaded as the extension under
// development, and keeps running until Ctrl-C.
//
// Env: PORT (default 8080).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { codeServerVersions, installCodeServer, REPO_ROOT } from './install-code-server.mjs';

const port = Number(process.env.PORT || 8080);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`start: PORT=${process.env.PORT} is not a valid port`);
  process.exit(2);
}

let install;
try {
  const [version, ...more] = codeServerVersions('newest');
  if (more.length) throw new Error('npm start runs one code-server version: newest, oldest or a version number');
  install = installCodeServer({ version, chromium: false });
} catch (err) {
  console.error(`start: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}

const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('start: the build (node esbuild.mjs) failed');
  process.exit(1);
}

const demo = join(REPO_ROOT, '.cache', 'demo-workspace');
mkdirSync(demo, { recursive: true });
const samples = join(REPO_ROOT, 'media', 'samples');
if (existsSync(samples)) cpSync(samples, demo, { recursive: true, force: false, errorOnExist: false });

const { startCodeServer, workbenchUrl } = await import('./code-server.mjs');
let server;
try {
  server = await startCodeServer({ codeServer: install, folder: demo, port, inheritOutput: true });
} catch (err) {
  console.error(`start: ${err instanceof Error ? err.message : err}`);
  console.error(`(is port ${port} already in use? set PORT=... to choose another)`);
  process.exit(1);
}

const url = workbenchUrl(server.url, server.port, demo, { extensionDevelopmentPath: REPO_ROOT });
console.log('');
console.log(`Wan Studio is running in code-server ${install.version} (VS Code ${install.vscodeVersion} in the browser) with the extension loaded.`);
console.log(`Open: ${url}`);
console.log('Rebuild after a change with `node esbuild.mjs`, then run "Developer: Reload Window". Ctrl-C stops.');
console.log('');

let stopping = false;
const shutdown = async (code) => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
server.exited.then(() => {
  if (!stopping) {
    console.error('start: code-server exited');
    void shutdown(1);
  }
});
