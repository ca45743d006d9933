// The storyboard editor: a custom text editor over `*.wanboard.json`. The TextDocument is the model (so undo,
// save, dirty state, Git diffs and hand-editing are VS Code's own): the page renders the document and asks for
// edits by shot and field; the host turns each into the smallest WorkspaceEdit (src/storyboard/edit.ts) and
// re-renders on every change of the document. The page never names a file the host does not check: keyframes
// come from a picker or a drop of a workspace image; it previews only files in the workspace and output folders.
import { basename, dirname, extname, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { editBoardText, minimalChange } from '../../storyboard/edit';
import type { Plan } from '../../storyboard/plan';
import type { Labels } from '../../protocol/generate';
import type { NotificationHandlers, Reply, RequestHandlers } from '../../protocol/rpc';
import {
  StoryboardPageMessage,
  type BoardView,
  type Slot,
  type StoryboardEdit,
  type StoryboardHostMessage,
  type StoryboardParams,
  type StoryboardResults,
} from '../../protocol/storyboard';
import { CommandIds } from '../commands/ids';
import { UserError } from '../userError';
import { affectsWanStudio } from '../settings';
import { outputFolders } from '../tasks/outputFolder';
import { isInsideFolder } from '../../tasks/insideFolder';
import { RECREATE_EVERY_MS, WebviewHost } from '../webviews/host';
import { pageHtml } from '../webviews/pageHtml';
import { storyboardLabels } from './labels';
import type { StoryboardService } from './service';
import { boardView } from './view';

import { STORYBOARD_VIEW_TYPE } from '../viewIds';
export { STORYBOARD_VIEW_TYPE };

/** The storyboard service's commands: generate what is missing; assemble the film. */
const RUN_COMMANDS = { generate: CommandIds.generateStoryboard, assemble: CommandIds.assembleStoryboard } as const;

const IMAGE = /^\.(jpe?g|png|bmp|webp)$/i;
const AUDIO = /^\.(wav|mp3)$/i;

export interface StoryboardDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Plans the board (made clips, tasks in flight) and says when that may have changed (a task made or started). */
  service: Pick<StoryboardService, 'plan' | 'onDidChange'>;
}

type Ready = { type: 'ready' };

/** The test surface of one open editor. */
export interface StoryboardEditorHandle {
  readonly uri: vscode.Uri;
  whenReady(): Promise<void>;
  receive(raw: unknown): Promise<unknown>;
  /** The view last sent to the page (after the render in progress, if any). */
  view(): Promise<BoardView | undefined>;
}

/** A path as the board writes it: relative to its folder, with forward slashes (the file is shared across systems). */
function boardPath(boardDir: string, file: string): string {
  return relative(boardDir, file).split(sep).join('/');
}

class StoryboardPage extends WebviewHost<StoryboardParams, StoryboardResults, Ready, StoryboardHostMessage> implements StoryboardEditorHandle {
  private rendering: Promise<BoardView | undefined> = Promise.resolve(undefined);
  private writing: Promise<unknown> = Promise.resolve();
  private renders = 0;
  private lastView: BoardView | undefined;
  private lastPlan: Plan | undefined;

  protected readonly requests: RequestHandlers<StoryboardParams, StoryboardResults> = {
    edit: (edit) => this.edit(edit),
    pick: ({ slot, index }) => this.pick(slot, index),
    drop: ({ slot, index, uris }) => this.drop(slot, index, uris),
    run: ({ action }) => this.run(action),
    play: ({ index }) => this.play(index),
  };
  protected readonly notifications: NotificationHandlers<never> = {};

  constructor(
    panel: vscode.WebviewPanel,
    readonly document: vscode.TextDocument,
    private readonly deps: StoryboardDeps,
    onDispose: () => void,
    recreate?: () => boolean,
  ) {
    super(panel, { name: 'Storyboard', log: deps.log, schema: StoryboardPageMessage, onDispose, recreate });
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => e.document === document && e.contentChanges.length > 0 && this.render()),
      // What it may preview follows the folders: a video a moment ago outside them may be inside now, or the reverse.
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.render()),
      // The plan follows the settings: the output folder (its clips, what may be previewed) and the endpoint
      // (whether it takes local audio; a rehearsal's clips count only while the board is rehearsed).
      vscode.workspace.onDidChangeConfiguration((e) => affectsWanStudio(e) && this.render()),
      deps.service.onDidChange(() => this.render()),
    );
    this.loadPage();
  }

  get uri(): vscode.Uri {
    return this.document.uri;
  }

  private get boardDir(): string {
    return dirname(this.document.uri.fsPath);
  }

  /** Where the files it previews may be, as of now: the workspace and output folders. */
  private shownFolders(): string[] {
    return [...new Set([...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), ...outputFolders()])];
  }

  /** Renders the document now; renders already under way are overtaken (only the newest is sent). */
  render(): Promise<BoardView | undefined> {
    const mine = ++this.renders;
    this.rendering = this.rendering
      .catch(() => undefined)
      .then(async () => {
        if (mine !== this.renders || this.disposed) return this.lastView;
        const file = this.document.uri.fsPath;
        const text = this.document.getText();
        const shown = this.shownFolders();
        const uriOf = (f: string) => (shown.some((folder) => isInsideFolder(folder, f)) ? this.media.link(f) : undefined);
        const view = await boardView(text, { fileName: basename(file), boardDir: this.boardDir, uriOf }, async () => {
          const planned = await this.deps.service.plan(this.document.uri, text);
          this.lastPlan = planned.ok ? planned.plan : undefined;
          return this.lastPlan;
        });
        if (view.plan === undefined) this.lastPlan = undefined;
        if (mine !== this.renders) return this.lastView;
        this.lastView = view;
        this.post({ type: 'board', view });
        return view;
      })
      .catch((error: unknown) => {
        // A plan that fails (a file that vanished mid-read) must not blank the editor: the next change renders again.
        this.log.warn(`Storyboard: ${error instanceof Error ? error.message : String(error)}`);
        return this.lastView;
      });
    return this.rendering;
  }

  view(): Promise<BoardView | undefined> {
    return this.rendering;
  }

  /**
   * One edit at a time, each computed on the text the one before it left: an edit made from the text as it was
   * is refused by VS Code once the document has moved on (its version no longer matches), and a user tabbing
   * through a card sends the next change before the last one has landed.
   */
  private write(change: (text: string) => string | undefined): Promise<boolean> {
    const next = this.writing.catch(() => undefined).then(() => this.writeNow(change));
    this.writing = next;
    return next;
  }

  private async writeNow(change: (text: string) => string | undefined): Promise<boolean> {
    const before = this.document.getText();
    const after = change(before);
    if (after === undefined) throw new UserError(vscode.l10n.t('The file is not valid JSON: fix the syntax error in the text first (Reopen Editor With… → Text Editor).'));
    if (after === before) return false;
    const { offset, length, text } = minimalChange(before, after);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(this.document.uri, new vscode.Range(this.document.positionAt(offset), this.document.positionAt(offset + length)), text);
    // Refused only when the text changed meanwhile from elsewhere (typing in a text editor beside this one).
    if (!(await vscode.workspace.applyEdit(edit))) throw new UserError(vscode.l10n.t('The board changed while this edit was being made, so it was not made: make it again.'));
    return true;
  }

  private async edit(edit: StoryboardEdit): Promise<{ changed: boolean }> {
    return { changed: await this.write((text) => editBoardText(text, edit)) };
  }

  private setFile(slot: Slot, index: number | undefined, file: string): Promise<boolean> {
    const value = boardPath(this.boardDir, file);
    if (slot === 'soundtrack') return this.write((t) => editBoardText(t, { op: 'setting', field: 'soundtrack', value }));
    if (index === undefined) throw new UserError(vscode.l10n.t('Choose the shot the keyframe is for.'));
    return this.write((t) => editBoardText(t, { op: 'shot', index, field: slot === 'start' ? 'startKeyframe' : 'endKeyframe', value }));
  }

  private async pick(slot: Slot, index: number | undefined): Promise<{ changed: boolean }> {
    const audio = slot === 'soundtrack';
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      defaultUri: vscode.Uri.file(this.boardDir),
      openLabel: audio ? vscode.l10n.t('Use as Soundtrack') : vscode.l10n.t('Use as Keyframe'),
      filters: audio ? { [vscode.l10n.t('Audio')]: ['wav', 'mp3'] } : { [vscode.l10n.t('Images')]: ['png', 'jpg', 'jpeg', 'bmp', 'webp'] },
    });
    const file = picked?.[0];
    if (!file) return { changed: false };
    return { changed: await this.setFile(slot, index, file.fsPath) };
  }

  /** A drop from the Explorer: only a file of the right kind inside an open workspace folder is taken. */
  private async drop(slot: Slot, index: number | undefined, uris: string[]): Promise<{ changed: boolean }> {
    const kind = slot === 'soundtrack' ? AUDIO : IMAGE;
    for (const raw of uris) {
      let uri: vscode.Uri;
      try {
        uri = vscode.Uri.parse(raw.trim(), true);
      } catch {
        continue;
      }
      // code-server's Explorer names files as vscode-remote URIs; the file is the same path on this host.
      const file = uri.scheme === 'file' || uri.scheme === 'vscode-remote' ? vscode.Uri.file(uri.path) : undefined;
      if (!file || !kind.test(extname(file.fsPath)) || !vscode.workspace.getWorkspaceFolder(file)) continue;
      return { changed: await this.setFile(slot, index, file.fsPath) };
    }
    throw new UserError(slot === 'soundtrack' ? vscode.l10n.t('Drop a WAV or MP3 file from this workspace.') : vscode.l10n.t('Drop a JPEG, PNG, BMP or WEBP image from this workspace.'));
  }

  private async run(action: 'generate' | 'assemble'): Promise<{ started: boolean }> {
    await this.render();
    if (action === 'generate') {
      if (!this.lastPlan || !this.lastPlan.ready) {
        const count = this.lastView?.syntax ? 1 : (this.lastView?.problems.length ?? 0);
        throw new UserError(vscode.l10n.t('Nothing was sent: fix the {0} problem(s) shown in the storyboard first.', count));
      }
    }
    // The command runs with its own progress and reports its own failure; the page's states follow the task list.
    void Promise.resolve(vscode.commands.executeCommand(RUN_COMMANDS[action], this.document.uri)).catch((e: unknown) => this.log.warn(`Storyboard: ${String(e)}`));
    return { started: true };
  }

  private async play(index: number): Promise<{ done: boolean }> {
    const made = this.lastPlan?.shots[index]?.made;
    if (!made) throw new UserError(vscode.l10n.t('This shot has no clip yet.'));
    await vscode.commands.executeCommand(CommandIds.playVideo, vscode.Uri.file(made.video));
    return { done: true };
  }

  protected html(): string {
    const body = '<main id="app" aria-busy="true"></main>';
    return pageHtml(this.deps.extensionUri, { page: 'storyboard', title: basename(this.document.uri.fsPath), body });
  }

  protected greet(): void {
    const labels: Labels = storyboardLabels();
    this.post({ type: 'init', labels, locale: vscode.env.language });
    void this.render();
  }

  /** A board sent before a reload is replaced by the greeting's render. */
  protected override stale(message: StoryboardHostMessage): boolean {
    return message.type === 'board';
  }

  protected replyMessage(reply: Reply<StoryboardResults[keyof StoryboardResults]>): StoryboardHostMessage {
    return reply;
  }

  protected refusal(error: unknown): { error: string } {
    return this.messageRefusal(error);
  }
}

/** Opens a page over each `*.wanboard.json` editor; knows the open ones (for tests and for the facts to refresh). */
export class StoryboardEditorProvider implements vscode.CustomTextEditorProvider, vscode.Disposable {
  private readonly pages = new Set<StoryboardPage>();
  /** Pages closed to be opened again (recreate), by their board's URI: the new page takes over their waiters. */
  private readonly replacing = new Map<string, StoryboardPage>();
  private lastRecreate = 0;

  constructor(private readonly deps: StoryboardDeps) {}

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const page: StoryboardPage = new StoryboardPage(
      panel,
      document,
      this.deps,
      () => this.pages.delete(page),
      () => this.recreate(page),
    );
    this.pages.add(page);
    const key = document.uri.toString();
    this.replacing.get(key)?.handOver(page);
    this.replacing.delete(key);
  }

  /**
   * A page still blank after a reload (code-server's registration race, see WebviewHost.watchReady) gets a new
   * editor: its tab is closed and the board opened again in the same column, which makes a new webview. Not for a
   * board with unsaved changes (closing its editor would ask about them), nor when its own tab cannot be told
   * (the page is loaded again instead), and once a minute at most.
   */
  private recreate(old: StoryboardPage): boolean {
    if (!this.pages.has(old) || old.document.isDirty || Date.now() - this.lastRecreate < RECREATE_EVERY_MS) return false;
    const column = old.panel.viewColumn;
    const key = old.uri.toString();
    // The page's own tab, in its own group: the same board may be open beside it, working.
    const tab = vscode.window.tabGroups.all
      .find((g) => g.viewColumn === column)
      ?.tabs.find((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === STORYBOARD_VIEW_TYPE && t.input.uri.toString() === key);
    if (column === undefined || !tab) return false;
    this.lastRecreate = Date.now();
    this.replacing.set(key, old);
    const options: vscode.TextDocumentShowOptions = { viewColumn: column, preserveFocus: !old.panel.active };
    // Closed through its tab, which resolves once the tab is gone: opened again before that, the board's old
    // editor would only be revealed, and then close.
    void vscode.window.tabGroups
      .close(tab)
      .then(() => old.dispose())
      .then(() => vscode.commands.executeCommand('vscode.openWith', old.uri, STORYBOARD_VIEW_TYPE, options))
      .then(
        () => this.deps.log.warn(`Storyboard: the page stayed blank after a reload; ${old.uri.fsPath} was opened again.`),
        // The entry stays: whoever waited for the blank page is answered by the board's next editor.
        (error: unknown) => this.deps.log.error(`Storyboard: the page stayed blank and ${old.uri.fsPath} could not be opened again: ${String(error)}`),
      );
    return true;
  }

  /** The open editors (for tests). */
  editors(): StoryboardEditorHandle[] {
    return [...this.pages];
  }

  dispose(): void {
    for (const page of [...this.pages]) page.dispose();
  }
}
