// Copies the repository's files (what git tracks plus untracked files it does not ignore: no dist/, out/,
// .cache/ or node_modules/) into a folder, with node_modules linked to this one's. npm test (run-all.mjs) builds
// the production bundles there, for the VSIX and the CLI tarball, while the VS Code suites keep loading the
// development build in this repository's dist/.
//
// Usage: node test/host/stage.mjs <folder>
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { REPO_ROOT } from './install-code-server.mjs';

/** Leaves out what is built, installed or cached; used when git is not there. */
const NOT_SOURCES = new Set(['.git', 'node_modules', '.cache', 'dist', 'out', '.vscode-test']);

function sourceFiles() {
  // .gitignore's `node_modules/` does not match a node_modules that is a symlink (a linked checkout): filter anyway.
  const source = (f) => f && !NOT_SOURCES.has(f.split(/[\\/]/)[0]) && !f.endsWith('.vsix');
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (git.status === 0) return git.stdout.split('\0').filter((f) => source(f) && existsSync(join(REPO_ROOT, f)));
  return readdirSync(REPO_ROOT, { recursive: true, encoding: 'utf8', withFileTypes: false }).filter(source);
}

export function stageRepository(to) {
  mkdirSync(to, { recursive: true });
  const files = sourceFiles();
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(REPO_ROOT, f), join(to, f), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
  return files.length;
}

const to = process.argv[2];
if (!to) {
  console.error('usage: node test/host/stage.mjs <folder>');
  process.exit(2);
}
console.log(`staged ${stageRepository(resolve(to))} files in ${resolve(to)}`);
