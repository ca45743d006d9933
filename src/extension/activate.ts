// Wires the extension: every part is built here, handed the parts it needs, and disposed with the
// extension. The task engine is stopped (awaited) in deactivate, so its leases are handed back before the
// window goes and the next window takes the tasks over at once.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ConnectionFactory } from './connection';
import { TaskDetailsProvider } from './commands/tasks';
import { registerCommands, registeredCommandIds } from './commands/registry';
import type { WanContext } from './context';
import { EmulatorProcess, emulatorArgsFromEnv, type EmulatorState } from './emulatorProcess';
import { GALLERY_VIEW_ID, GalleryViewProvider } from './gallery/galleryView';
import { PosterIcons } from './gallery/posterIcons';
import { PosterCache } from '../gallery/poster';
import type { GalleryEntry } from '../gallery/entries';
import { DisposableStore } from './lifecycle';
import { DraftBackup } from './panel/draftBackup';
import { GeneratorManager } from './panel/manager';
import { ServiceTasks } from './panel/serviceTasks';
import { PlayerManager } from './playerManager';
import { ApiKeyStore } from './secrets';
import { SECTION, affectsEndpoint, endpointSettingId, openSettingsAt } from './settings';
import { TaskIndicators } from './tasks/indicators';
import { TaskNotifier, type Notice } from './tasks/notifier';
import { TaskService } from './tasks/service';
import { TaskTreeProvider, type TaskTreeNode } from './tasks/tree';
import type { TaskRecord } from '../tasks/record';

export const TASKS_VIEW_ID = 'wanStudio.tasks';

/** For tests and automation. Nothing here exposes the API key. */
export interface WanStudioTesting {
  /** Resolves once the task list is loaded and the engine runs. */
  readonly ready: Promise<void>;
  tasks(): readonly TaskRecord[];
  onDidChangeTasks(listener: () => void): vscode.Disposable;
  readonly taskFile: string;
  /** This window's owner ID in the task store's leases. */
  windowId(): string;
  /** Stops the engine and starts a new store and engine with a new owner, as a reloaded window would. */
  restartTasks(): Promise<void>;
  treeChildren(node?: TaskTreeNode): TaskTreeNode[];
  treeItem(node: TaskTreeNode): vscode.TreeItem;
  resolveTreeItem(node: TaskTreeNode): vscode.TreeItem;
  /** Runs the countdown once; returns how many items it refreshed. */
  tickCountdown(): number;
  badge(): number | undefined;
  /** The status bar item's text while tasks run (undefined when hidden). */
  statusBar(): string | undefined;
  notifications(): readonly Notice[];
  /** What the Gallery lists now (collected afresh). */
  galleryEntries(): Promise<GalleryEntry[]>;
  /** The Gallery page's host once the view was shown: its ready, and a message as if from the page. */
  galleryPage(): { whenReady(): Promise<void>; receive(raw: unknown): Promise<unknown> } | undefined;
  emulator(): Promise<EmulatorState>;
  commandIds(): string[];
  /** The service's time as the extension counts it. */
  now(): number;
}

/** What the extension exports to `vscode.extensions.getExtension(...).exports`. Never exposes the key. */
export interface WanStudioApi {
  /** First 12 hex chars of the SHA-256 of the stored API key, or undefined when none is stored. */
  apiKeyFingerprint(): Promise<string | undefined>;
  readonly testing: WanStudioTesting;
}

let session: { tasks: TaskService } | undefined;

export function activate(context: vscode.ExtensionContext): WanStudioApi {
  const disposables = new DisposableStore();
  context.subscriptions.push(disposables);
  const log = disposables.add(vscode.window.createOutputChannel('Wan Studio', { log: true }));
  const storage = context.globalStorageUri.fsPath;
  const apiKeys = disposables.add(new ApiKeyStore(context.secrets));
  const emulator = disposables.add(
    new EmulatorProcess({
      scriptPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'emulator.js').fsPath,
      stateDir: storage,
      log,
      extraArgs: emulatorArgsFromEnv(),
    }),
  );
  const connections = disposables.add(new ConnectionFactory(apiKeys, emulator, log));
  const players = disposables.add(
    new PlayerManager({
      extensionUri: context.extensionUri,
      previewDir: vscode.Uri.joinPath(context.globalStorageUri, 'sound-previews'),
      state: context.globalState,
      log,
    }),
  );
  // The notifier finds a batch's other tasks in the list; its grouped notice's Show opens the Gallery.
  const late: { tasks?: TaskService } = {};
  const notifier = disposables.add(
    new TaskNotifier(log, () => connections.now(), {
      records: () => late.tasks?.all() ?? [],
      showVideos: () => vscode.commands.executeCommand(`${GALLERY_VIEW_ID}.focus`),
    }),
  );
  const tasks = disposables.add(
    new TaskService({
      file: join(storage, 'tasks.json'),
      connections,
      log,
      events: {
        ended: (r) => notifier.ended(r),
        expiring: (r) => notifier.expiring(r),
        unreachable: (o) =>
          notifier.unreachable(o, {
            openSettings: () => openSettingsAt(endpointSettingId()),
            // The change of setting sends the waiting requests (below).
            switchToEmulator: () => vscode.workspace.getConfiguration(SECTION).update('endpoint', 'emulator', vscode.ConfigurationTarget.Global),
            retry: () => tasks.tasks.retryWaiting(),
            cancel: () => tasks.tasks.cancelWaiting(o.url),
          }),
        recovered: (recovery, outcome) => notifier.recovered(recovery, outcome),
        storage: (problem) => notifier.storage(problem),
        unresolved: (r) => notifier.unresolved(r),
      },
    }),
  );
  late.tasks = tasks;
  // Requests waiting for an unreachable endpoint go at once to the one just configured.
  disposables.add(vscode.workspace.onDidChangeConfiguration((e) => affectsEndpoint(e) && void tasks.tasks.retryWaiting().catch((err: unknown) => log.warn(String(err)))));
  const posters = disposables.add(new PosterIcons(new PosterCache(join(storage, 'posters'), (m) => log.warn(m))));
  const tree = disposables.add(new TaskTreeProvider(tasks, () => connections.now(), posters));
  const treeView = disposables.add(vscode.window.createTreeView(TASKS_VIEW_ID, { treeDataProvider: tree }));
  const indicators = disposables.add(new TaskIndicators(treeView, `${TASKS_VIEW_ID}.focus`));
  tree.setVisible(treeView.visible);
  disposables.add(treeView.onDidChangeVisibility((e) => tree.setVisible(e.visible)));
  disposables.add(tasks.onDidChange(() => indicators.update(tasks.all())));

  const backup = disposables.add(new DraftBackup((context.storageUri ?? context.globalStorageUri).fsPath, (m) => log.warn(m)));
  const generators = disposables.add(
    new GeneratorManager({ extensionUri: context.extensionUri, log, tasks: new ServiceTasks(tasks, connections), memento: context.globalState, backup }),
  );

  const gallery = disposables.add(new GalleryViewProvider({ extensionUri: context.extensionUri, log, tasks, posters }));
  disposables.add(vscode.window.registerWebviewViewProvider(GALLERY_VIEW_ID, gallery));

  const ctx: WanContext = { extension: context, log, apiKeys, emulator, connections, players, tasks, tree, treeView, notifier, generators, posters, gallery };
  for (const d of registerCommands(ctx)) disposables.add(d);
  disposables.add(vscode.workspace.registerTextDocumentContentProvider(TaskDetailsProvider.scheme, disposables.add(new TaskDetailsProvider(ctx))));

  const keyContext = () =>
    apiKeys.has().then((has) => vscode.commands.executeCommand('setContext', 'wanStudio.apiKeySet', has), (e: unknown) => log.warn(String(e)));
  void keyContext();
  disposables.add(apiKeys.onDidChange(() => void keyContext()));

  session = { tasks };
  const ready = tasks.start().then(
    () => indicators.update(tasks.all()),
    (error: unknown) => {
      log.error(`The task list could not be started: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      throw error;
    },
  );
  ready.catch(() => undefined);

  log.info(`Wan Studio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}).`);
  return {
    apiKeyFingerprint: () => apiKeys.fingerprint(),
    testing: {
      ready,
      tasks: () => tasks.all(),
      onDidChangeTasks: (listener) => tasks.onDidChange(listener),
      taskFile: tasks.file,
      windowId: () => tasks.owner,
      restartTasks: () => tasks.restart(),
      treeChildren: (node) => tree.getChildren(node),
      treeItem: (node) => tree.getTreeItem(node),
      resolveTreeItem: (node) => tree.resolveTreeItem(tree.getTreeItem(node), node),
      tickCountdown: () => tree.tick(),
      badge: () => (typeof treeView.badge?.value === 'number' ? treeView.badge.value : undefined),
      statusBar: () => indicators.text,
      notifications: () => notifier.history(),
      galleryEntries: () => gallery.entries(),
      galleryPage: () => gallery.host,
      emulator: async () => {
        await emulator.url();
        return emulator.state()!;
      },
      commandIds: () => registeredCommandIds(),
      now: () => connections.now(),
    },
  };
}

/** Awaited by VS Code before the window goes: polls stop and leases are handed back. */
export async function deactivate(): Promise<void> {
  const s = session;
  session = undefined;
  await s?.tasks.stop();
}
