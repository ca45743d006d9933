// CONTRIBUTING.md's architecture against the tree: the next engineer reads it to find a folder's job and the
// file to copy, so a folder it leaves out or a file it names that is gone misleads at once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const doc = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8');
const architecture = doc.slice(doc.indexOf('## Architecture'));

function folders(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isDirectory())
    .flatMap((path) => [`${relative(ROOT, path)}/`, ...folders(path)]);
}

/** The backticked names in a piece of text that look like files or folders (an ending, or a trailing slash). */
function namedPaths(text: string): string[] {
  return [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((t) => !/[<>*]/.test(t) && !t.startsWith('.') && (/\.(ts|mjs|js|css|json)$/.test(t) || t.endsWith('/')));
}

describe('CONTRIBUTING.md against the tree', () => {
  it('names every folder under src/ and webview/ in its folder table', () => {
    assert.ok(architecture.length > 1000, 'CONTRIBUTING.md has no Architecture section');
    const tableFolders = new Set(architecture.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => namedPaths(l.split('|')[1]!)));
    const missing = [...folders(join(ROOT, 'src')), ...folders(join(ROOT, 'webview'))].filter((f) => !tableFolders.has(f));
    assert.deepEqual(missing, []);
  });

  it('names only files and folders that exist (a row’s bare names inside its folders)', () => {
    const gone: string[] = [];
    for (const line of architecture.split('\n').filter((l) => l.startsWith('|'))) {
      const rowFolders = namedPaths(line.split('|')[1] ?? '').filter((t) => t.endsWith('/'));
      for (const name of namedPaths(line)) {
        const candidates = name.includes('/') ? [name, ...rowFolders.map((f) => f + name)] : rowFolders.map((f) => f + name);
        // A bare name in a row of no folder (a package name, `dist/…`) is not a claim about this tree.
        if (candidates.length && !candidates.some((c) => existsSync(join(ROOT, c)))) gone.push(name);
      }
    }
    for (const name of namedPaths(doc).filter((t) => /^(src|webview|test|media)\//.test(t))) if (!existsSync(join(ROOT, name))) gone.push(name);
    assert.deepEqual([...new Set(gone)], []);
  });
});
