// Which folders the Gallery looks in: the output folder of every open workspace folder, and the folders the task
// list's videos of this workspace were saved in (a folder chosen in a dialog, an older setting).
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../tasks/record';
import { resolveOutputFolder } from '../tasks/outputFolder';

/** The task list's records that belong to this window's workspace (all of them with no folder open). */
export function workspaceRecords(records: readonly TaskRecord[]): TaskRecord[] {
  const open = vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath);
  if (!open?.length) return [...records];
  return records.filter((r) => !r.workspaceFolder || open.includes(r.workspaceFolder));
}

export function galleryFolders(records: readonly TaskRecord[]): string[] {
  const folders = new Set<string>();
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const out = resolveOutputFolder(f.uri.fsPath);
    if (out) folders.add(out);
  }
  for (const r of records) if (r.save?.state === 'saved' && r.save.file) folders.add(dirname(r.save.file));
  return [...folders];
}
