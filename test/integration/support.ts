// Shared by the integration tests: the extension's test API, waiting on it, the emulator's request log,
// and sample inputs in the workspace.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { WanStudioApi, WanStudioTesting } from '../../src/extension/activate';
import type { TaskRecord, TaskState } from '../../src/tasks/record';
import type { Notice } from '../../src/extension/tasks/notifier';

export const EXTENSION_ID = 'wan-studio.wan-studio';

export async function extensionApi(): Promise<WanStudioTesting> {
  const ext = vscode.extensions.getExtension<WanStudioApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this host`);
  const api = await ext.activate();
  await api.testing.ready;
  return api.testing;
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test host has a workspace folder');
  return folder.uri.fsPath;
}

/** Copies a bundled sample into the workspace (inputs/<name>) and returns its path. */
export function sampleInput(name: 'first-frame.jpg' | 'last-frame.jpg' | 'clip.mp4', as: string = name): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const dir = join(workspaceRoot(), 'inputs');
  mkdirSync(dir, { recursive: true });
  const dest = join(dir, as);
  copyFileSync(join(ext.extensionPath, 'media', 'samples', name), dest);
  return dest;
}

/**
 * Resolves with `probe()`'s first defined value, checked on every change of the task list (after the tree
 * and the badge have taken it) and, with `poll`, also every 100 ms (for what no task change announces,
 * such as notifications). Without `poll`, a probe never sees a record before the tree does.
 */
export async function waitFor<T>(api: WanStudioTesting, what: string, probe: () => T | undefined | false, timeoutMs = 60_000, poll = false): Promise<T> {
  const first = probe();
  if (first !== undefined && first !== false) return first;
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      let value: T | undefined | false;
      try {
        value = probe();
      } catch (error) {
        done();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (value !== undefined && value !== false) {
        done();
        resolve(value);
      }
    };
    const sub = api.onDidChangeTasks(check);
    const timer = poll ? setInterval(check, 100) : undefined;
    const deadline = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
    }, timeoutMs);
    const done = () => {
      sub.dispose();
      if (timer) clearInterval(timer);
      clearTimeout(deadline);
    };
  });
}

export function record(api: WanStudioTesting, id: string): TaskRecord {
  const r = api.tasks().find((t) => t.id === id);
  assert.ok(r, `task ${id} is in the list`);
  return r;
}

/** Every state a record went through, in order, from now on (watched on each change of the list). */
export function watchStates(api: WanStudioTesting, ids: () => readonly string[]): { states(id: string): TaskState[]; dispose(): void } {
  const seen = new Map<string, TaskState[]>();
  const look = () => {
    for (const id of ids()) {
      const r = api.tasks().find((t) => t.id === id);
      if (!r) continue;
      const list = seen.get(id) ?? [];
      if (list.at(-1) !== r.state) list.push(r.state);
      seen.set(id, list);
    }
  };
  const sub = api.onDidChangeTasks(look);
  return { states: (id) => (look(), seen.get(id) ?? []), dispose: () => sub.dispose() };
}

export interface EmulatorRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  route: string;
  status?: number;
  taskId?: string;
}

export async function emulatorRequests(url: string): Promise<EmulatorRequest[]> {
  const res = await fetch(`${url}/__emulator/requests`);
  return ((await res.json()) as { requests: EmulatorRequest[] }).requests;
}

export async function clearEmulatorRequests(url: string): Promise<void> {
  await fetch(`${url}/__emulator/requests`, { method: 'DELETE' });
}

export async function advanceEmulatorClock(url: string, ms: number): Promise<void> {
  const res = await fetch(`${url}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: ms }) });
  assert.equal(res.status, 200);
}

/**
 * Keeps every started task of the emulator at `url` RUNNING until released (`POST /__emulator/hold`): the suite's
 * shared emulator runs tasks short (run-integration.mjs), and a test that must see or keep a task running holds it.
 */
export async function holdEmulatorRunning(url: string, running: boolean): Promise<void> {
  const res = await fetch(`${url}/__emulator/hold`, { method: 'POST', body: JSON.stringify({ running }) });
  assert.equal(res.status, 200);
}

export const config = () => vscode.workspace.getConfiguration('wanStudio');

/** Points the extension at `url` (an emulator a test started) with a key, or back at its own emulator. */
export async function useEndpoint(url: string | undefined, key = 'sk-integration-tasks'): Promise<void> {
  if (url) {
    await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', url, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.setApiKey', key);
  } else {
    await config().update('endpoint', undefined, vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
  }
}

export const isActive = (r: TaskRecord) => r.state === 'queued' || r.state === 'creating' || r.state === 'pending' || r.state === 'running';
/** Saved with the record beside the video written: a video in place is saved before its record (a full disk may hold the record back). */
export const isSaved = (r: TaskRecord) => r.state === 'succeeded' && r.save?.state === 'saved' && !r.save.pendingRecord;

/** A task's notifications of one kind, once there is at least one (the end is announced just after the record changes). */
export function noticesFor(api: WanStudioTesting, recordId: string, kind: Notice['kind']): Promise<Notice[]> {
  return waitFor(api, `a "${kind}" notification for ${recordId}`, () => {
    // A batch's videos are told in one notice, which names each of its tasks.
    const found = api.notifications().filter((n) => (n.recordId === recordId || n.recordIds?.includes(recordId)) && n.kind === kind);
    return found.length ? found : undefined;
  }, 15_000, true);
}
