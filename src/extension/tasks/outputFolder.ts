// Where a task's video is saved: `wanStudio.outputFolder`, relative to the task's workspace folder.
import { isAbsolute, join } from 'node:path';
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import type { TaskRecord, TaskRequest } from '../../tasks/record';
import { readOutputFolder } from '../settings';

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** The folder for a task of `workspaceFolder`; undefined when the setting is relative and there is none. */
export function resolveOutputFolder(workspaceFolder: string | undefined): string | undefined {
  const setting = expandHome(readOutputFolder(workspaceFolder ? vscode.Uri.file(workspaceFolder) : undefined));
  if (isAbsolute(setting)) return setting;
  return workspaceFolder ? join(workspaceFolder, setting) : undefined;
}

/** For the engine, at save time: never asks (nobody may be looking); undefined makes the save wait for the user. */
export function outputFolderFor(record: TaskRecord): Promise<string | undefined> {
  return Promise.resolve(resolveOutputFolder(record.workspaceFolder ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath));
}

/** The output folder of every open workspace folder (and an absolute setting's, without one). */
export function outputFolders(): string[] {
  const roots = vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath) ?? [undefined];
  return [...new Set(roots.map(resolveOutputFolder).filter((f): f is string => !!f))];
}

/** Asks for a folder (when there is no workspace to save in). */
export async function askForOutputFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: vscode.l10n.t('Save Videos Here'),
    title: vscode.l10n.t('Where should Wan Studio save the video?'),
  });
  return picked?.[0]?.fsPath;
}

/** The workspace folder a task belongs to: the one holding its first input, else the first one open. */
export function workspaceFolderFor(sources: readonly (string | undefined)[]): string | undefined {
  for (const s of sources) {
    if (!s || /^[a-z][a-z0-9+.-]*:\/\//i.test(s)) continue;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(s));
    if (folder) return folder.uri.fsPath;
  }
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/**
 * Where a new request's task belongs and saves: its inputs' workspace folder and, when that gives no output
 * folder, one the user picks now. Undefined when the user picked none (then nothing is requested).
 */
export async function placeRequest(
  request: TaskRequest,
  given: { workspaceFolder?: string; outputFolder?: string } = {},
): Promise<{ workspaceFolder?: string; outputFolder?: string } | undefined> {
  const workspaceFolder = given.workspaceFolder ?? workspaceFolderFor([request.firstFrame, request.lastFrame, request.drivingAudio, request.firstClip]);
  if (given.outputFolder || resolveOutputFolder(workspaceFolder)) return { workspaceFolder, outputFolder: given.outputFolder };
  const outputFolder = await askForOutputFolder();
  return outputFolder ? { workspaceFolder, outputFolder } : undefined;
}
