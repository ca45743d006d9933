// Starts code-server (a real VS Code server + web workbench) on a loopback port with fresh
// user-data and extensions folders, waits until it answers HTTP, and stops its whole process tree.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Asks the OS for a free loopback port. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The extension runs its emulator detached (so it outlives window reloads) and records it in its
 * globalStorage; stop the one this server's extension started, by its pid.
 */
export function stopDetachedEmulator(userDataDir) {
  const stateFile = join(userDataDir, 'User', 'globalStorage', 'wan-studio.wan-studio', 'emulator.json');
  try {
    const { pid } = JSON.parse(readFileSync(stateFile, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGTERM');
  } catch {
    /* none was started, or it already left */
  }
}

/**
 * @param {object} opts
 * @param {{ entry: string, node: string }} opts.codeServer what installCodeServer returned for the version to run
 * @param {string} opts.folder        workspace folder to open (absolute path)
 * @param {number} [opts.port]        fixed port; a free one when omitted
 * @param {object} [opts.settings]    user settings written to <user-data-dir>/User/settings.json
 * @param {object} [opts.machineSettings] machine settings, written to <user-data-dir>/Machine/settings.json: code-server
 *   applies machine-scoped settings (wanStudio.endpoint, customBaseUrl, the budget caps) only from there, not from
 *   User/settings.json (1.139; 1.100 read them from both)
 * @param {Record<string,string>} [opts.env] extra environment for code-server (and its extension host)
 * @param {boolean} [opts.inheritOutput] also echo code-server's output to this process's stderr
 * @param {string} [opts.extensionsDir] an existing extensions folder (e.g. one a VSIX was installed into); a fresh empty one when omitted
 * @param {number} [opts.startTimeoutMs]
 * @returns {Promise<{url: string, port: number, userDataDir: string, extensionsDir: string, tmpDir: string, logFile: string, logTail(lines?: number): string, stop(): Promise<void>}>}
 */
export async function startCodeServer(opts) {
  // Another server started at the same moment (npm test runs several) may take the free port first: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCodeServerOnce(opts);
    } catch (err) {
      if (opts.port || attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function startCodeServerOnce(opts) {
  const port = opts.port ?? (await freePort());
  const tmpDir = mkdtempSync(join(tmpdir(), 'wan-code-server-'));
  const userDataDir = join(tmpDir, 'user-data');
  const extensionsDir = opts.extensionsDir ?? join(tmpDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'security.workspace.trust.enabled': false,
    // The demo workspace sits inside this repository; don't offer to open the repository.
    'git.openRepositoryInParentFolders': 'never',
    ...(opts.settings ?? {}),
  };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  if (opts.machineSettings) {
    mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
    writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(opts.machineSettings, null, 2));
  }

  const logFile = join(tmpDir, 'code-server.log');
  const logStream = createWriteStream(logFile);
  const args = [
    opts.codeServer.entry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    opts.folder,
  ];
  // detached: the server gets its own process group, so stop() can kill the whole tree at once.
  const child = spawn(opts.codeServer.node, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // A built VS Code web workbench (1.1xx, after 1.100) honours the URL payload's extensionDevelopmentPath and
      // extensionTestsPath only when the server runs with --enable-smoke-test-driver; code-server 4.139 passes
      // VSCODE_OPTIONS through to the VS Code server, and 4.100 (which honours the payload as it is) ignores it.
      VSCODE_OPTIONS: 'enable-smoke-test-driver',
      ...(opts.env ?? {}),
    },
  });
  let exited = false;
  /** @type {number | null} */
  let exitCode = null;
  const exitedPromise = new Promise((r) =>
    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code ?? (signal ? -1 : 0);
      r(undefined);
    }),
  );
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d) => {
      logStream.write(d);
      if (opts.inheritOutput) process.stderr.write(d);
    });
  }

  const logTail = (lines = 60) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    stopDetachedEmulator(userDataDir);
    if (child.pid) {
      if (!exited) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        await Promise.race([exitedPromise, sleep(5000)]);
      }
      // The group may still hold an extension host or watcher that outlives the server: kill what is left.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
      await Promise.race([exitedPromise, sleep(2000)]);
    }
    await new Promise((r) => logStream.end(r));
    if (!process.env.WAN_KEEP_TMP) rmSync(tmpDir, { recursive: true, force: true, maxRetries: 3 });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
  for (;;) {
    if (exited) {
      const tail = logTail();
      await stop();
      throw new Error(`code-server exited early (code ${exitCode}):\n${tail}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      const tail = logTail();
      await stop();
      throw new Error(`code-server did not answer on ${url} within ${(opts.startTimeoutMs ?? 120_000) / 1000} s:\n${tail}`);
    }
    await sleep(200);
  }
  return { url, port, userDataDir, extensionsDir, tmpDir, logFile, logTail, stop, exited: exitedPromise };
}

/**
 * The workbench URL that opens `folder` with an extension under development (and optionally a test runner),
 * the way `code --extensionDevelopmentPath --extensionTestsPath` would.
 */
export function workbenchUrl(base, port, folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  let u = `${base}/?folder=${encodeURIComponent(folder)}`;
  if (payload.length) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return u;
}
