// Generate and Assemble for a storyboard: the board is the Uri given (the editor's, a menu's) or, from the
// palette, the active `.wanboard.json` (in a text editor or the storyboard editor). Its text is the open
// document's, unsaved edits included.
import * as vscode from 'vscode';
import { BOARD_EXTENSION } from '../../storyboard/board';
import type { RunResult } from '../../storyboard/run';
import type { WanContext } from '../context';
import { BudgetRefusal } from '../tasks/budget';
import { UserError } from '../userError';

function activeBoard(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const fromTab = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  const uri = fromTab ?? vscode.window.activeTextEditor?.document.uri;
  return uri?.path.endsWith(BOARD_EXTENSION) ? uri : undefined;
}

async function boardOf(arg: unknown): Promise<{ uri: vscode.Uri; text: string }> {
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.file(arg) : activeBoard();
  if (!uri) throw new UserError(vscode.l10n.t('Open a storyboard (a {0} file) first.', BOARD_EXTENSION));
  if (!uri.path.endsWith(BOARD_EXTENSION)) throw new UserError(vscode.l10n.t('{0} is not a storyboard (a {1} file).', uri.fsPath, BOARD_EXTENSION));
  const document = await vscode.workspace.openTextDocument(uri).then(
    (d) => d,
    (e: unknown) => {
      throw new UserError(vscode.l10n.t('The storyboard {0} cannot be opened: {1}', uri.fsPath, e instanceof Error ? e.message : String(e)));
    },
  );
  return { uri, text: document.getText() };
}

/**
 * `wanStudio.storyboard.generate [uri]`: sends what is missing; resolves when every shot sent is made, or to
 * undefined when the user kept to a spend cap (the dialog said what it would cost; nothing was sent).
 */
export async function generateBoard(ctx: WanContext, arg?: unknown): Promise<RunResult | undefined> {
  const { uri, text } = await boardOf(arg);
  let result: RunResult;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Generating the storyboard {0}', vscode.workspace.asRelativePath(uri)), cancellable: true },
      (progress, token) => ctx.storyboards.generate(uri, text, progress, token),
    );
  } catch (error) {
    if (error instanceof BudgetRefusal) return undefined;
    throw error;
  }
  if (result.failed.length > 0) {
    ctx.notifier.error(vscode.l10n.t('{0} shot(s) of the storyboard were not made: {1}', result.failed.length, result.failed.map((f) => `${f.shotId}: ${f.error}`).join('; ')));
  }
  return result;
}

/** `wanStudio.storyboard.assemble [uri]`: writes the film beside the board and opens it; resolves to its Uri. */
export async function assembleBoardFilm(ctx: WanContext, arg?: unknown): Promise<vscode.Uri> {
  const { uri, text } = await boardOf(arg);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Assembling the storyboard {0}', vscode.workspace.asRelativePath(uri)), cancellable: true },
    (progress, token) => ctx.storyboards.assemble(uri, text, progress, token),
  );
}
