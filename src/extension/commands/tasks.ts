// The task tree's actions and the view's title actions.
import * as vscode from 'vscode';
import type { TaskRecord } from '../../tasks/record';
import { WanValidationError } from '../../wan/errors';
import { explainError } from '../../wan/explain';
import { DURATION_DEFAULT_S } from '../../wan/limits';
import { billedSeconds } from '../../wan/sizing';
import type { WanContext } from '../context';
import { askForOutputFolder, resolveOutputFolder, workspaceFolderFor } from '../tasks/outputFolder';
import { detailsMarkdown, label, savedFile } from '../tasks/present';
import type { PlayerHandle } from '../player';
import { CommandIds } from './ids';
import { UserError } from '../userError';
import { TASKS_VIEW_ID } from '../viewIds';
import { resolveTask } from './taskArgs';

function validationMessage(error: WanValidationError): string {
  return error.issues.map((i) => i.message).join('; ');
}

/** `wanStudio.task.play`: plays the task's saved video. */
export async function playTask(ctx: WanContext, arg: unknown): Promise<PlayerHandle | undefined> {
  const r = resolveTask(ctx, arg);
  const file = savedFile(r);
  if (!file) throw new UserError(vscode.l10n.t('"{0}" has no saved video yet.', label(r)));
  return vscode.commands.executeCommand<PlayerHandle | undefined>(CommandIds.playVideo, vscode.Uri.file(file));
}

/** `wanStudio.task.reveal`: shows the saved video in the Explorer (or the OS file manager outside the workspace). */
export async function revealTask(ctx: WanContext, arg: unknown): Promise<void> {
  const r = resolveTask(ctx, arg);
  const file = savedFile(r);
  if (!file) throw new UserError(vscode.l10n.t('"{0}" has no saved video yet.', label(r)));
  const uri = vscode.Uri.file(file);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

/** `wanStudio.task.cancel`: a locally queued request is dropped; a PENDING task is canceled by the service. */
export async function cancelTask(ctx: WanContext, arg: unknown): Promise<TaskRecord | undefined> {
  const r = resolveTask(ctx, arg);
  try {
    const after = await ctx.tasks.engine.cancel(r.id);
    ctx.log.info(`Task ${r.id}: cancel asked; now ${after?.state ?? 'gone'}`);
    return after;
  } catch (error) {
    if (error instanceof WanValidationError) throw new UserError(validationMessage(error));
    throw new UserError(vscode.l10n.t('"{0}" could not be canceled: {1}', label(r), explainError(error).message));
  }
}

/** `wanStudio.task.retryDownload`: saves the video again (asking for a folder when there is none to save in). */
export async function retryDownload(ctx: WanContext, arg: unknown): Promise<void> {
  const r = resolveTask(ctx, arg);
  if (r.state !== 'succeeded' || r.save?.state === 'saved') throw new UserError(vscode.l10n.t('"{0}" has nothing to download.', label(r)));
  // A retry follows the setting as it is now (the user may just have fixed it); a folder chosen in a
  // dialog (no workspace) is kept; with neither, ask.
  const folder = resolveOutputFolder(r.workspaceFolder ?? workspaceFolderFor([])) ?? r.outputFolder ?? (await askForOutputFolder());
  if (!folder) return;
  if (folder !== r.outputFolder) await ctx.tasks.patch(r.id, (t) => (t.outputFolder = folder));
  await ctx.tasks.engine.retrySave(r.id);
}

export async function copyTaskId(ctx: WanContext, arg: unknown): Promise<string> {
  const r = resolveTask(ctx, arg);
  if (!r.taskId) throw new UserError(vscode.l10n.t('"{0}" has no task ID yet.', label(r)));
  await vscode.env.clipboard.writeText(r.taskId);
  // Copying gives no sign of its own: say what is on the clipboard.
  ctx.notifier.info(vscode.l10n.t('Copied the task ID {0}.', r.taskId), r.id);
  return r.taskId;
}

export async function copyPrompt(ctx: WanContext, arg: unknown): Promise<string> {
  const r = resolveTask(ctx, arg);
  if (!r.request.prompt) throw new UserError(vscode.l10n.t('"{0}" has no prompt.', label(r)));
  await vscode.env.clipboard.writeText(r.request.prompt);
  return r.request.prompt;
}

/** `wanStudio.task.lookAgain`: an interrupted create is looked up in the account's task list once more. */
export async function lookAgain(ctx: WanContext, arg: unknown): Promise<void> {
  const r = resolveTask(ctx, arg);
  await ctx.tasks.engine.lookAgain(r.id);
}

/** `wanStudio.task.createAgain [task] [{confirm: false}]`: the user decided the interrupted create made nothing. */
export async function createAgain(ctx: WanContext, arg: unknown, options?: { confirm?: boolean }): Promise<void> {
  const r = resolveTask(ctx, arg);
  if (r.state !== 'unresolved') throw new UserError(vscode.l10n.t('Only a request that may not have been created can be created again.'));
  if (options?.confirm !== false) {
    const go = vscode.l10n.t('Create Again');
    const seconds = billedSeconds(r.request.duration ?? DURATION_DEFAULT_S);
    const question = vscode.l10n.t(
      'If the first attempt did create a task, this makes a second one and both are billed ({0} s each). Create "{1}" again?',
      seconds,
      label(r),
    );
    if ((await vscode.window.showWarningMessage(question, { modal: true }, go)) !== go) return;
  }
  await ctx.tasks.engine.createAgain(r.id);
}

/** `wanStudio.task.remove`: forgets the task here (it is never canceled on the service). */
export async function removeTask(ctx: WanContext, arg: unknown, options?: { confirm?: boolean }): Promise<number> {
  const r = resolveTask(ctx, arg);
  if (r.state === 'succeeded' && r.save?.state !== 'saved' && r.save?.state !== 'expired' && options?.confirm !== false) {
    const go = vscode.l10n.t('Remove');
    const question = vscode.l10n.t('The video of "{0}" is not saved. Once removed from the list it will not be downloaded. Remove it?', label(r));
    if ((await vscode.window.showWarningMessage(question, { modal: true }, go)) !== go) return 0;
  }
  try {
    return await ctx.tasks.engine.remove([r.id]);
  } catch (error) {
    if (error instanceof WanValidationError) throw new UserError(validationMessage(error));
    throw error;
  }
}

/** `wanStudio.task.showDetails`: selects the task in the view and opens its details (read-only). */
export async function showTaskDetails(ctx: WanContext, arg: unknown): Promise<vscode.TextDocument> {
  const r = resolveTask(ctx, arg);
  const node = ctx.tree.nodeFor(r.id);
  if (node) await ctx.treeView.reveal(node, { select: true, focus: false }).then(undefined, () => undefined);
  const uri = TaskDetailsProvider.uriFor(r);
  const doc = await vscode.workspace.openTextDocument(uri);
  // Rendered, where the built-in Markdown preview is available; the plain text otherwise.
  await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, () => vscode.window.showTextDocument(doc, { preview: true }));
  return doc;
}

/** `wanStudio.addTaskById [taskId]`: follows a task made elsewhere (the CLI, another machine). */
export async function addTaskById(ctx: WanContext, arg?: unknown): Promise<TaskRecord | undefined> {
  const taskId =
    typeof arg === 'string'
      ? arg
      : await vscode.window.showInputBox({
          title: vscode.l10n.t('Add Task by ID'),
          prompt: vscode.l10n.t('The task ID of a Wan 2.7 image-to-video task from the last 24 hours, on the configured endpoint.'),
          ignoreFocusOut: true,
          validateInput: (v) => (/^[A-Za-z0-9_-]{1,128}$/.test(v.trim()) ? undefined : vscode.l10n.t('Letters, digits, - and _ only.')),
        });
  if (!taskId) return undefined;
  try {
    // The lookup may wait out a slow or failing service: the Tasks view shows it is under way.
    const r = await vscode.window.withProgress({ location: { viewId: TASKS_VIEW_ID }, title: vscode.l10n.t('Looking up task {0}…', taskId.trim()) }, () =>
      ctx.tasks.engine.adopt(taskId.trim(), { workspaceFolder: workspaceFolderFor([]) }),
    );
    ctx.notifier.info(vscode.l10n.t('Added task {0}: {1}', taskId.trim(), r.state));
    return r;
  } catch (error) {
    throw new UserError(vscode.l10n.t('Task {0} could not be added: {1}', taskId.trim(), explainError(error).message));
  }
}

/** `wanStudio.syncFromAccount`: adds this model's tasks of the last 24 hours that the list does not hold. */
export async function syncFromAccount(ctx: WanContext): Promise<TaskRecord[]> {
  // The videos the sync brings are told in one notice, not one each.
  const hold = ctx.notifier.holdForSync();
  let added: TaskRecord[] = [];
  try {
    added = await vscode.window.withProgress(
      { location: { viewId: TASKS_VIEW_ID }, title: vscode.l10n.t('Reading the account’s tasks…') },
      () => ctx.tasks.engine.syncFromAccount({ workspaceFolder: workspaceFolderFor([]) }),
    );
    const saved = added.filter((r) => r.save?.state === 'saved').length;
    ctx.notifier.info(
      !added.length
        ? vscode.l10n.t('No tasks to add: the list already has every recent task of the account.')
        : saved
          ? vscode.l10n.t('Added {0} tasks from the account; {1} of them were already saved and are not downloaded again.', added.length, saved)
          : vscode.l10n.t('Added {0} tasks from the account.', added.length),
    );
    return added;
  } catch (error) {
    throw new UserError(vscode.l10n.t('The account’s task list could not be read: {0}', explainError(error).message));
  } finally {
    hold.release(added);
  }
}

export async function clearFinished(ctx: WanContext): Promise<number> {
  const n = await ctx.tasks.engine.clearFinished();
  ctx.log.info(`Cleared ${n} finished tasks`);
  return n;
}

/** The details document's name: the task's label (its prompt, else its first input), safe in a path. */
export function detailsName(r: TaskRecord): string {
  const name = label(r)
    .replace(/[\p{Cc}\\/:*?"<>|#%]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return (name.length > 60 ? `${name.slice(0, 59).trimEnd()}…` : name) || r.id;
}

/**
 * Read-only documents with a task's details, titled by its prompt: wan-task:/<id>/<prompt>.md (never a file
 * on disk). An open one follows its record.
 */
export class TaskDetailsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'wan-task';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Pick<WanContext, 'tasks' | 'connections'>) {
    this.subscription = ctx.tasks.onDidChange(() => {
      for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === TaskDetailsProvider.scheme) this.changed.fire(doc.uri);
    });
  }

  static uriFor(r: TaskRecord): vscode.Uri {
    return vscode.Uri.from({ scheme: TaskDetailsProvider.scheme, path: `/${r.id}/${detailsName(r)}.md` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = uri.path.split('/')[1]?.replace(/\.md$/, '') ?? '';
    const r = this.ctx.tasks.get(id);
    return r ? detailsMarkdown(r, this.ctx.connections.now()).value : vscode.l10n.t('That task is no longer in the list.');
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
