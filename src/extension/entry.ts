// The activation shell: the manifest's main (dist/extension.js). It registers what VS Code needs at once
// (every command, the Tasks view, the panel serializers) and loads the rest of the extension
// (dist/extension-main.js: the task engine, the network stack, zod, the media probes) on first use: a
// command, the Tasks view asking for its rows, a panel restored after a reload, or, at start-up, a task
// list that holds unfinished tasks (onStartupFinished activates this shell alone, which reads the list
// without loading anything else). Nothing here may import more than vscode, Node and tiny modules.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { needsWork, type WorkFields } from '../tasks/work';
import type { Main, Shell, WanStudioApi, WanStudioTesting } from './activate';
import { CommandIds } from './commands/ids';
import type { TaskTreeNode } from './tasks/tree';
import { GALLERY_VIEW_ID, GENERATOR_VIEW_TYPE, PLAYER_VIEW_TYPE, STORYBOARD_VIEW_TYPE, TASKS_VIEW_ID } from './viewIds';

/** The shell's test surface, beside the loaded extension's. */
export interface ShellTesting {
  /** True once the rest of the extension was loaded (false in a window that has not used it). */
  loaded(): boolean;
  /** Why it was loaded: 'command', 'view', 'panel', 'editor', 'unfinished tasks', 'api'. */
  loadedBy(): string | undefined;
}

let main: { deactivate(): Promise<void> } | undefined;

export function activate(context: vscode.ExtensionContext): WanStudioApi & { shell: ShellTesting } {
  const activatedAt = Date.now();
  let loading: Promise<Main> | undefined;
  let loaded: Main | undefined;
  let loadedBy: string | undefined;
  let loadMs: number | undefined;
  const load = (why: string): Promise<Main> =>
    (loading ??= Promise.resolve().then(() => {
      loadedBy = why;
      const t0 = Date.now();
      // A separate bundle, required on first use: esbuild leaves a computed path alone.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(join(__dirname, 'extension-main.js')) as typeof import('./activate');
      main = mod;
      loaded = mod.activateMain(context, shell);
      loadMs = Date.now() - t0;
      return loaded;
    }));
  // When the Tasks view first got rows, logged once: how long a window makes the user wait for them.
  let rowsTimed = false;

  // The Tasks view: registered now, its rows come from the loaded extension's provider.
  const treeChanged = new vscode.EventEmitter<TaskTreeNode | TaskTreeNode[] | undefined | void>();
  let tree: vscode.TreeDataProvider<TaskTreeNode> | undefined;
  const treeView = vscode.window.createTreeView<TaskTreeNode>(TASKS_VIEW_ID, {
    treeDataProvider: {
      onDidChangeTreeData: treeChanged.event,
      getChildren: async (node) => {
        const m = await load('view');
        const children = (await tree!.getChildren(node)) ?? [];
        if (!node && children.length && !rowsTimed) {
          rowsTimed = true;
          m.firstRows(children.length, { sinceActivationMs: Date.now() - activatedAt, loadMs: loadMs ?? 0 });
        }
        return children;
      },
      // Nodes come from getChildren, so the provider is there by the time VS Code asks about one.
      getTreeItem: (node) => tree!.getTreeItem(node),
      getParent: (node) => tree!.getParent?.(node),
      resolveTreeItem: (item, node, token) => tree!.resolveTreeItem?.(item, node, token) ?? item,
    },
  });
  context.subscriptions.push(treeChanged, treeView);

  const serializers = new Map<string, vscode.WebviewPanelSerializer>();
  // The Gallery view: registered now, its page comes from the loaded extension's provider.
  let gallery: vscode.WebviewViewProvider | undefined;
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(GALLERY_VIEW_ID, {
      resolveWebviewView: async (view, resolveContext, token) => {
        await load('view');
        await gallery?.resolveWebviewView(view, resolveContext, token);
      },
    }),
  );
  // The storyboard editor: registered now (a board opened at start-up needs it), its pages come from the loaded extension.
  let storyboards: vscode.CustomTextEditorProvider | undefined;
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(
      STORYBOARD_VIEW_TYPE,
      {
        resolveCustomTextEditor: async (document, panel, token) => {
          await load('editor');
          await storyboards?.resolveCustomTextEditor(document, panel, token);
        },
      },
      // One page per document: a split shows the text beside it, not a second page to keep in step.
      { supportsMultipleEditorsPerDocument: false },
    ),
  );
  const shell: Shell = {
    treeView,
    showTree(provider) {
      tree = provider;
      context.subscriptions.push(provider.onDidChangeTreeData((e) => treeChanged.fire(e)));
      treeChanged.fire();
    },
    showGallery(provider) {
      gallery = provider;
    },
    showStoryboards(provider) {
      storyboards = provider;
    },
    registerSerializer(viewType, serializer) {
      serializers.set(viewType, serializer);
      return new vscode.Disposable(() => serializers.get(viewType) === serializer && serializers.delete(viewType));
    },
  };
  for (const viewType of [GENERATOR_VIEW_TYPE, PLAYER_VIEW_TYPE]) {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          await load('panel');
          await serializers.get(viewType)?.deserializeWebviewPanel(panel, state);
        },
      }),
    );
  }
  for (const id of Object.values(CommandIds)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => (await load('command')).commands.get(id)?.(...args)));
  }

  // Tasks left unfinished by a closed window are taken over at once (they cost money and their results expire).
  void hasUnfinishedTasks(join(context.globalStorageUri.fsPath, 'tasks.json')).then(async (unfinished) => {
    if (unfinished) await load('unfinished tasks');
  });

  const testing = new Proxy({} as WanStudioTesting, {
    get: (_, key: keyof WanStudioTesting) => {
      if (key === 'ready') return load('api').then((m) => m.api.testing.ready);
      if (!loaded) throw new Error(`Wan Studio is not loaded yet: await testing.ready before testing.${String(key)}`);
      return Reflect.get(loaded.api.testing, key) as unknown;
    },
  });
  return {
    apiKeyFingerprint: async () => (await load('api')).api.apiKeyFingerprint(),
    testing,
    shell: { loaded: () => loaded !== undefined, loadedBy: () => loadedBy },
  };
}

/**
 * True when the task list holds a task with work left, or cannot be read as a list (the loaded extension
 * then recovers it). A missing list has nothing unfinished.
 */
async function hasUnfinishedTasks(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  try {
    const tasks = (JSON.parse(text) as { tasks?: unknown }).tasks;
    return !Array.isArray(tasks) || tasks.some((t) => typeof t !== 'object' || t === null || needsWork(t as WorkFields));
  } catch {
    return true;
  }
}

/** Awaited by VS Code before the window goes: polls stop and leases are handed back (when anything was loaded). */
export async function deactivate(): Promise<void> {
  await main?.deactivate();
  main = undefined;
}
