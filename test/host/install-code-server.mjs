// Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3) into <repo>/.cache/code-server,
// plus the Debian tools the integration run needs (ripgrep, chromium).
// Idempotent: a marker file makes a second run instant.
//
// Usage: node test/host/install-code-server.mjs [--no-chromium]
// As a module: import { installCodeServer } from './install-code-server.mjs'
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INSTALL_DIR = join(REPO_ROOT, '.cache', 'code-server');
export const CODE_SERVER_PKG = join(INSTALL_DIR, 'node_modules', 'code-server');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_PKG, 'out', 'node', 'entry.js');
export const CHROMIUM_PATH = process.env.WAN_CHROMIUM_PATH || '/usr/bin/chromium';
const MARKER = join(INSTALL_DIR, `.installed-${CODE_SERVER_VERSION}`);
const RG_SYSTEM = '/usr/bin/rg';

function log(msg) {
  process.stderr.write(`[install-code-server] ${msg}\n`);
}

function run(cmd, args, cwd) {
  log(`${cwd ? `(in ${cwd}) ` : ''}${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
  if (r.error) throw new Error(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let aptUpdated = false;

/** Makes sure a Debian package providing `file` is installed; installs it with apt-get when running as root. */
function ensureAptTool(file, pkg) {
  if (existsSync(file)) return;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`${file} is missing. Install the Debian package "${pkg}" (apt-get install ${pkg}) and run again.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => {
    log(`apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); install "${pkg}" by hand.`);
  };
  if (!aptUpdated) {
    apt(['update', '-qq']);
    aptUpdated = true;
  }
  apt(['install', '-y', '-qq', '--no-install-recommends', pkg]);
  if (!existsSync(file)) throw new Error(`apt-get installed ${pkg} but ${file} is still missing.`);
}

/**
 * Installs code-server (and, unless `chromium: false`, Debian's chromium) if needed.
 * Returns the paths the launchers need.
 */
export function installCodeServer({ chromium = true } = {}) {
  const started = Date.now();
  ensureAptTool(RG_SYSTEM, 'ripgrep');
  if (chromium && CHROMIUM_PATH === '/usr/bin/chromium') ensureAptTool(CHROMIUM_PATH, 'chromium');
  else if (chromium && !existsSync(CHROMIUM_PATH)) throw new Error(`WAN_CHROMIUM_PATH=${CHROMIUM_PATH} does not exist.`);

  if (existsSync(MARKER) && existsSync(CODE_SERVER_ENTRY)) {
    return { entry: CODE_SERVER_ENTRY, chromium: CHROMIUM_PATH, installed: false, ms: Date.now() - started };
  }

  log(`installing code-server@${CODE_SERVER_VERSION} into ${INSTALL_DIR}`);
  mkdirSync(INSTALL_DIR, { recursive: true });
  // A package.json of its own keeps npm from treating the repository as the project.
  const pkgJson = join(INSTALL_DIR, 'package.json');
  if (!existsSync(pkgJson)) writeFileSync(pkgJson, JSON.stringify({ name: 'wan-studio-code-server-cache', private: true }, null, 2) + '\n');

  run('npm', ['install', '--prefix', INSTALL_DIR, '--ignore-scripts', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`]);
  const vscodeDir = join(CODE_SERVER_PKG, 'lib', 'vscode');
  if (!existsSync(join(vscodeDir, 'package.json'))) throw new Error(`unexpected code-server layout: ${vscodeDir} has no package.json`);

  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-save'], vscodeDir);
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-save'], join(vscodeDir, 'extensions'));

  // VS Code loads its node modules through "node_modules.asar" paths.
  const asar = join(vscodeDir, 'node_modules.asar');
  let asarPresent = false;
  try {
    lstatSync(asar);
    asarPresent = true;
  } catch {
    /* absent */
  }
  if (!asarPresent) symlinkSync('node_modules', asar);

  // The ripgrep npm package downloads its binary from GitHub in a script we skipped: use Debian's.
  const rgDir = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgDir, { recursive: true });
  const rgTarget = join(rgDir, 'rg');
  rmSync(rgTarget, { force: true });
  copyFileSync(RG_SYSTEM, rgTarget);
  chmodSync(rgTarget, 0o755);

  // Native modules: argon2 (password hashing, loaded at start even with --auth none), and the
  // logger and watchdog VS Code uses (without them the logs fill with errors).
  // With --prefix, npm hoists argon2 to the prefix's node_modules, so it is rebuilt there.
  run('npm', ['rebuild', 'argon2'], INSTALL_DIR);
  run('npm', ['rebuild', '@vscode/spdlog', 'native-watchdog'], vscodeDir);
  const check = spawnSync(process.execPath, ['-e', "require('argon2'); require('./lib/vscode/node_modules/@vscode/spdlog')"], { cwd: CODE_SERVER_PKG, encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`native modules did not build:\n${check.stderr}`);

  const version = JSON.parse(readFileSync(join(CODE_SERVER_PKG, 'package.json'), 'utf8')).version;
  if (version !== CODE_SERVER_VERSION) throw new Error(`installed code-server ${version}, expected ${CODE_SERVER_VERSION}`);
  writeFileSync(MARKER, new Date().toISOString() + '\n');
  const ms = Date.now() - started;
  log(`code-server ${version} ready in ${(ms / 1000).toFixed(1)} s`);
  return { entry: CODE_SERVER_ENTRY, chromium: CHROMIUM_PATH, installed: true, ms };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const r = installCodeServer({ chromium: !process.argv.includes('--no-chromium') });
    console.log(r.installed ? `installed code-server ${CODE_SERVER_VERSION} in ${(r.ms / 1000).toFixed(1)} s` : `code-server ${CODE_SERVER_VERSION} already installed`);
  } catch (err) {
    console.error(`install-code-server: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
