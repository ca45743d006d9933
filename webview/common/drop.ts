// Files dragged from VS Code's Explorer onto a page: the one reading of what was dropped, and the one way a
// place takes a drop (VS Code wants Shift held over a webview). The host checks every path it is given.

/** The dropped resources' URIs: a uri-list (VS Code's own type first), else its `resourceurls` JSON. */
export function droppedUris(event: DragEvent): string[] {
  const data = event.dataTransfer;
  if (!data) return [];
  const list = data.getData('application/vnd.code.uri-list') || data.getData('text/uri-list');
  if (list) return list.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  try {
    const resources = JSON.parse(data.getData('resourceurls') || '[]') as unknown;
    return Array.isArray(resources) ? resources.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Makes `target` a place files can be dropped on: marked `dragging` while something is over it, `take` called
 * with the URIs (never with none). The drop stops here, so a slot inside a larger drop target keeps its own.
 */
export function onFileDrop(target: HTMLElement, take: (uris: string[]) => void): void {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    target.classList.add('dragging');
  });
  target.addEventListener('dragleave', () => target.classList.remove('dragging'));
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    target.classList.remove('dragging');
    const uris = droppedUris(e);
    if (uris.length) take(uris);
  });
}
