// Asks the user for an input: a quick pick of matching workspace files, a file dialog, or a URL.
import * as vscode from 'vscode';
import type { Slot } from '../../protocol/generate';

type Target = Slot | 'batch';

const EXTENSIONS: Record<'image' | 'audio' | 'video', string[]> = {
  image: ['jpg', 'jpeg', 'png', 'bmp', 'webp'],
  audio: ['mp3', 'wav'],
  video: ['mp4', 'mov'],
};

function kindOf(target: Target): keyof typeof EXTENSIONS {
  return target === 'drivingAudio' ? 'audio' : target === 'firstClip' ? 'video' : 'image';
}

function filterName(kind: keyof typeof EXTENSIONS): string {
  return kind === 'image' ? vscode.l10n.t('Images') : kind === 'audio' ? vscode.l10n.t('Audio') : vscode.l10n.t('Videos');
}

async function fromWorkspace(target: Target): Promise<string[]> {
  const exts = EXTENSIONS[kindOf(target)];
  // Case variants too: the glob is case-sensitive on Linux.
  const glob = `**/*.{${[...exts, ...exts.map((e) => e.toUpperCase())].join(',')}}`;
  const files = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 5000);
  if (files.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No matching files ({0}) in the workspace.', exts.join(', ')));
    return [];
  }
  const items = files
    .map((uri) => ({ label: vscode.workspace.asRelativePath(uri, false), uri }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const many = target === 'batch';
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Wan Studio: Choose a File'),
    placeHolder: vscode.l10n.t('Files in the workspace ({0})', exts.join(', ')),
    canPickMany: many,
    matchOnDescription: true,
  });
  if (!picked) return [];
  return (Array.isArray(picked) ? picked : [picked]).map((p) => p.uri.fsPath);
}

async function fromDialog(target: Target): Promise<string[]> {
  const kind = kindOf(target);
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: target === 'batch',
    openLabel: vscode.l10n.t('Use'),
    filters: { [filterName(kind)]: EXTENSIONS[kind] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return (picked ?? []).map((u) => u.fsPath);
}

async function fromUrl(): Promise<string[]> {
  const url = await vscode.window.showInputBox({
    title: vscode.l10n.t('Wan Studio: Use a URL'),
    prompt: vscode.l10n.t('A public http(s) URL the service can download (or an oss:// URL from a temporary upload).'),
    placeHolder: 'https://…',
    ignoreFocusOut: true,
    validateInput: (value) => {
      const v = value.trim();
      if (/^oss:\/\/./.test(v)) return undefined;
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : vscode.l10n.t('Only http(s) and oss:// URLs can be used.');
      } catch {
        return vscode.l10n.t('This is not a URL.');
      }
    },
  });
  return url?.trim() ? [url.trim()] : [];
}

export function pickSources(target: Target, via: 'workspace' | 'dialog' | 'url'): Promise<string[]> {
  return via === 'workspace' ? fromWorkspace(target) : via === 'dialog' ? fromDialog(target) : fromUrl();
}
