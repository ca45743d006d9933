// Whether a file lies inside a folder, for the webview hosts' rules of what a page may show: `..` segments are
// resolved (so `<folder>/../x` is outside) and a path on another Windows drive is outside.
import { relative, sep } from 'node:path';

export function isInsideFolder(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && !/^[a-z]:/i.test(rel);
}
