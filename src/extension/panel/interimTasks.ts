// A stand-in for the extension side of the task layer (being built on ext/tasks): a TaskEngine with its
// store in global storage, so the panel hands real requests to the real engine today. It is replaced
// by the shared one when that lands; the panel only sees GenerationTasks.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TaskEngine } from '../../tasks/engine';
import type { TaskRecord, TaskRequest } from '../../tasks/record';
import { TaskStore } from '../../tasks/store';
import type { ConnectionFactory } from '../connection';
import { readEndpoint } from '../settings';
import type { GenerationTasks } from './taskLayer';

// The official SDKs' schedule: 1, 1, 2, 2, 2, 4, 4, 4 s, then every 5 s.
const SCHEDULE_S = [1, 1, 2, 2, 2, 4, 4, 4];
const pollDelay = (polls: number) => (SCHEDULE_S[polls] ?? 5) * 1000;

function outputFolder(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? join(folder.uri.fsPath, 'videos') : undefined;
}

export class InterimTasks implements GenerationTasks, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly store: TaskStore;
  private readonly engine: TaskEngine;
  private readonly loaded: Promise<void>;
  private readonly subscription: { dispose(): void };

  constructor(storageDir: vscode.Uri, connections: ConnectionFactory, log: vscode.LogOutputChannel) {
    this.store = new TaskStore({ file: join(storageDir.fsPath, 'tasks.json'), onWarning: (m) => log.warn(m) });
    this.subscription = this.store.onDidChange(() => this.changed.fire());
    this.engine = new TaskEngine({
      store: this.store,
      connect: async () => {
        const { client, baseUrl } = await connections.connect({ rehearsalWithoutKey: true });
        const setting = readEndpoint();
        const kind = 'endpoint' in setting ? setting.endpoint.kind : 'custom';
        return { client, endpoint: { kind, baseUrl } };
      },
      listCreated: async () => [],
      pollDelay,
      outputFolderFor: async () => outputFolder(),
      log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    });
    const { store, engine } = this;
    this.loaded = (async () => {
      await vscode.workspace.fs.createDirectory(storageDir);
      await store.load();
      engine.start();
    })();
    this.loaded.catch((e: unknown) => log.error(`Task store: ${String(e)}`));
  }

  async submit(request: TaskRequest): Promise<TaskRecord> {
    await this.loaded;
    const setting = readEndpoint();
    if ('problem' in setting) throw new Error(setting.problem);
    return this.engine.submit(request, {
      endpoint: { kind: setting.endpoint.kind, baseUrl: '' },
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      outputFolder: outputFolder(),
    });
  }

  get(id: string): TaskRecord | undefined {
    return this.store.get(id);
  }

  all(): readonly TaskRecord[] {
    return this.store.all();
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    void this.engine.stop();
  }
}
