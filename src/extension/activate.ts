// Wires the extension: every part is built here, handed the parts it needs, and disposed with the
// extension. Loaded on first use by the activation shell (entry.ts, the manifest's main), which registered
// the commands, the Tasks view and the panel serializers and hands them over to what is built here. The task
// engine is stopped (awaited) in deactivate, so its leases are handed back before the window goes and the
// next window takes the tasks over at once.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ConnectionFactory } from './connection';
import { TaskDetailsProvider } from './commands/tasks';
import { commandHandlers, registeredCommandIds } from './commands/registry';
import type { WanContext } from './context';
import { EmulatorProcess, emulatorArgsFromEnv, type EmulatorState } from './emulatorProcess';
import { GALLERY_VIEW_ID, GalleryViewProvider } from './gallery/galleryView';
import { PosterIcons } from './gallery/posterIcons';
import { PosterCache } from '../gallery/poster';
import type { GalleryEntry } from '../gallery/schema';
import { DisposableStore } from './lifecycle';
import { silenceNextPages } from './webviews/host';
import { DraftBackup } from './panel/draftBackup';
import { GeneratorManager } from './panel/manager';
import { ServiceTasks } from './panel/serviceTasks';
import { PlayerManager } from './playerManager';
import { ApiKeyStore } from './secrets';
import { StoryboardService, type BoardPlanResult } from './storyboard/service';
import { offerInterruptedRuns } from './storyboard/resume';
import { SECTION, affectsBudget, affectsWanStudio, endpointSettingId, openSettingsAt } from './settings';
import { BudgetGate, SpendIndicator, askModal } from './tasks/budget';
import { TaskIndicators } from './tasks/indicators';
import { TaskNotifier, type Notice } from './tasks/notifier';
import { TaskService } from './tasks/service';
import { StoryboardEditorProvider, type StoryboardEditorHandle } from './storyboard/editor';
import { TaskTreeProvider, type TaskTreeNode } from './tasks/tree';
import { TASKS_VIEW_ID } from './viewIds';
import type { TaskRecord } from '../tasks/record';
import { TypedState } from './storage';

export { TASKS_VIEW_ID };

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
  /** The open storyboard editors: their ready, a message as if from the page, the view last sent. */
  storyboardEditors(): StoryboardEditorHandle[];
  emulator(): Promise<EmulatorState>;
  commandIds(): string[];
  /** The service's time as the extension counts it. */
  now(): number;
  /** Spend as shown: the Tasks view's description and the status bar tooltip's lines. */
  spend(): { description?: string; lines: readonly string[]; tooltip: string };
  /** The spend-cap refusals shown so far (message and figures). */
  budgetPrompts(): readonly string[];
  /**
   * Answers the next spend-cap dialogs in place of the user ('allow' = Allow This Once, 'refuse' = closed),
   * since a test cannot click a modal dialog; an empty list brings the dialog back.
   */
  answerBudgetPrompts(answers: readonly ('allow' | 'refuse')[]): void;
  /** The storyboard service's plan of a board's text (what the storyboard editor shows). */
  planStoryboard(board: vscode.Uri, text: string): Promise<BoardPlanResult>;
  /** The next `count` webview pages never count as ready (a page left blank, as code-server's race leaves one). */
  silenceNextPages(count: number): void;
}

/** What the extension exports to `vscode.extensions.getExtension(...).exports`. Never exposes the key. */
export interface WanStudioApi {
  /** First 12 hex chars of the SHA-256 of the stored API key, or undefined when none is stored. */
  apiKeyFingerprint(): Promise<string | undefined>;
  readonly testing: WanStudioTesting;
}

/** What the activation shell registered before this part was loaded, to be handed over to it. */
export interface Shell {
  /** The Tasks view, created with a provider that hands over to `showTree`'s. */
  readonly treeView: vscode.TreeView<TaskTreeNode>;
  showTree(tree: TaskTreeProvider): void;
  /** The Gallery view, registered by the shell with a provider that hands over to this one. */
  showGallery(provider: vscode.WebviewViewProvider): void;
  /** The storyboard editor, registered by the shell with a provider that hands over to this one. */
  showStoryboards(provider: vscode.CustomTextEditorProvider): void;
  registerSerializer(viewType: string, serializer: vscode.WebviewPanelSerializer): vscode.Disposable;
}

/** The loaded extension, as the shell uses it. */
export interface Main {
  readonly api: WanStudioApi;
  /** Command id → handler (guarded: a failure is reported, never thrown at VS Code). */
  readonly commands: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  /** The Tasks view got its first rows: logged with the shell's timings (the loading of this part included). */
  firstRows(count: number, timing: { sinceActivationMs: number; loadMs: number }): void;
}

let session: { tasks: TaskService } | undefined;

export function activateMain(context: vscode.ExtensionContext, shell: Shell): Main {
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
      state: new TypedState(context.globalState),
      log,
    }, (t, s) => shell.registerSerializer(t, s)),
  );
  // The notifier finds a batch's other tasks in the list; its grouped notice's Show opens the Gallery.
  const late: { tasks?: TaskService } = {};
  const notifier = disposables.add(
    new TaskNotifier(log, () => connections.now(), {
      records: () => late.tasks?.all() ?? [],
      showVideos: () => vscode.commands.executeCommand(`${GALLERY_VIEW_ID}.focus`),
    }),
  );
  const scripted: ('allow' | 'refuse')[] = [];
  // Spend's days and months are the user's, on this machine's clock (the service's only decides expiry).
  const budget = new BudgetGate({
    log,
    ask: (message, detail, buttons) => {
      const answer = scripted.shift();
      return answer === undefined ? askModal(message, detail, buttons) : Promise.resolve(answer === 'allow' ? buttons.allow : undefined);
    },
  });
  const tasks = disposables.add(
    new TaskService({
      file: join(storage, 'tasks.json'),
      connections,
      log,
      admit: async (records, requests, endpoint, held) => {
        await connections.requireKey(endpoint);
        await budget.admit(records, requests, endpoint, held);
      },
      events: {
        ended: (r) => notifier.ended(r),
        expiring: (r) => notifier.expiring(r),
        unreachable: (o) =>
          notifier.unreachable(o, {
            openSettings: () => openSettingsAt(endpointSettingId()),
            // The change of setting sends the waiting requests (below).
            switchToEmulator: () => vscode.workspace.getConfiguration(SECTION).update('endpoint', 'emulator', vscode.ConfigurationTarget.Global),
            retry: () => tasks.engine.retryWaiting(),
            cancel: () => tasks.engine.cancelWaiting(o.url),
          }),
        recovered: (recovery, outcome, fromRecords) => notifier.recovered(recovery, outcome, fromRecords),
        storage: (problem) => notifier.storage(problem),
        unresolved: (r) => notifier.unresolved(r),
      },
    }),
  );
  late.tasks = tasks;
  // Requests waiting for an unreachable endpoint go at once to the one just configured.
  disposables.add(vscode.workspace.onDidChangeConfiguration((e) => affectsWanStudio(e) && void tasks.engine.retryWaiting().catch((err: unknown) => log.warn(String(err)))));
  const posters = disposables.add(new PosterIcons(new PosterCache(join(storage, 'posters'), (m) => log.warn(m))));
  const tree = disposables.add(new TaskTreeProvider(tasks, () => connections.now(), posters));
  const treeView = shell.treeView;
  shell.showTree(tree);
  const indicators = disposables.add(new TaskIndicators(treeView, `${TASKS_VIEW_ID}.focus`));
  tree.setVisible(treeView.visible);
  disposables.add(treeView.onDidChangeVisibility((e) => tree.setVisible(e.visible)));
  disposables.add(tasks.onDidChange(() => indicators.update(tasks.all())));
  const spend = disposables.add(
    new SpendIndicator({ records: () => tasks.all(), now: Date.now, view: treeView, show: (lines) => indicators.setSpend(lines) }),
  );
  disposables.add(tasks.onDidChange(() => spend.update()));
  disposables.add(vscode.workspace.onDidChangeConfiguration((e) => affectsBudget(e) && spend.update()));

  const backup = disposables.add(new DraftBackup((context.storageUri ?? context.globalStorageUri).fsPath, (m) => log.warn(m)));
  const generators = disposables.add(
    new GeneratorManager(
      { extensionUri: context.extensionUri, log, tasks: new ServiceTasks(tasks, connections), memento: new TypedState(context.globalState), backup },
      (t, s) => shell.registerSerializer(t, s),
    ),
  );

  const gallery = disposables.add(new GalleryViewProvider({ extensionUri: context.extensionUri, log, tasks, posters }));
  shell.showGallery(gallery);
  const storyboards = disposables.add(
    new StoryboardService({ tasks, connections, players, log, workDir: join(storage, 'storyboard-cuts'), runs: new TypedState(context.workspaceState) }),
  );
  offerInterruptedRuns(storyboards, notifier, log);
  const storyboardEditors = disposables.add(new StoryboardEditorProvider({ extensionUri: context.extensionUri, log, service: storyboards }));
  shell.showStoryboards(storyboardEditors);

  const ctx: WanContext = { extension: context, log, apiKeys, emulator, connections, players, tasks, tree, treeView, notifier, generators, posters, gallery, storyboards };
  const commands = commandHandlers(ctx);
  disposables.add(vscode.workspace.registerTextDocumentContentProvider(TaskDetailsProvider.scheme, disposables.add(new TaskDetailsProvider(ctx))));

  const keyContext = () =>
    apiKeys.has().then((has) => vscode.commands.executeCommand('setContext', 'wanStudio.apiKeySet', has), (e: unknown) => log.warn(String(e)));
  void keyContext();
  disposables.add(apiKeys.onDidChange(() => void keyContext()));

  session = { tasks };
  const ready = tasks.start().then(
    () => {
      indicators.update(tasks.all());
      spend.update();
    },
    (error: unknown) => {
      log.error(`The task list could not be started: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      throw error;
    },
  );
  ready.catch(() => undefined);

  log.info(`Wan Studio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}).`);
  const api: WanStudioApi = {
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
      silenceNextPages,
      storyboardEditors: () => storyboardEditors.editors(),
      emulator: async () => {
        await emulator.url();
        return emulator.state()!;
      },
      commandIds: () => registeredCommandIds(),
      now: () => connections.now(),
      spend: () => ({ ...spend.shown(), tooltip: indicators.tooltip }),
      budgetPrompts: () => budget.prompts(),
      answerBudgetPrompts: (answers) => void scripted.splice(0, scripted.length, ...answers),
      planStoryboard: (board, text) => storyboards.plan(board, text),
    },
  };
  const firstRows = (count: number, timing: { sinceActivationMs: number; loadMs: number }) =>
    log.info(`Tasks view: its first ${count} rows given ${timing.sinceActivationMs} ms after activation (loading the extension took ${timing.loadMs} ms)`);
  return { api, commands, firstRows };
}

/** Awaited by VS Code before the window goes: polls stop and leases are handed back. */
export async function deactivate(): Promise<void> {
  const s = session;
  session = undefined;
  await s?.tasks.stop();
}
