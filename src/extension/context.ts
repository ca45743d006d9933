// The one object every command factory receives: the parts of the extension, wired in activate.ts.
import type * as vscode from 'vscode';
import type { ConnectionFactory } from './connection';
import type { EmulatorProcess } from './emulatorProcess';
import type { GalleryViewProvider } from './gallery/galleryView';
import type { PosterIcons } from './gallery/posterIcons';
import type { GeneratorManager } from './panel/manager';
import type { PlayerManager } from './playerManager';
import type { ApiKeyStore } from './secrets';
import type { StoryboardService } from './storyboard/service';
import type { TaskNotifier } from './tasks/notifier';
import type { TaskService } from './tasks/service';
import type { TaskTreeNode, TaskTreeProvider } from './tasks/tree';

export interface WanContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly apiKeys: ApiKeyStore;
  readonly emulator: EmulatorProcess;
  readonly connections: ConnectionFactory;
  readonly players: PlayerManager;
  readonly tasks: TaskService;
  readonly tree: TaskTreeProvider;
  readonly treeView: vscode.TreeView<TaskTreeNode>;
  readonly notifier: TaskNotifier;
  readonly generators: GeneratorManager;
  readonly posters: PosterIcons;
  readonly gallery: GalleryViewProvider;
  /** Storyboards: plan, generate and assemble a board (the storyboard editor and the commands use it). */
  readonly storyboards: StoryboardService;
}
