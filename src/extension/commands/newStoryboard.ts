// The ways to a new storyboard: New Storyboard (the palette, the Tasks view's title bar) makes an empty one in
// the workspace; Make a Storyboard (several images in the Explorer) makes one shot between each pair of
// neighbours. Either asks for the name, refuses a file that exists, and opens the board in its editor.
import { dirname, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { BOARD_EXTENSION, boardFromKeyframes, type Board } from '../../storyboard/board';
import { boardText, emptyBoard } from '../../storyboard/edit';
import { STORYBOARD_VIEW_TYPE } from '../viewIds';
import { ofKind, selection } from './generator';
import { UserError } from '../userError';

/** Tests (and scripts) may give the name instead of being asked. */
export interface StoryboardOptions {
  name?: string;
}

const NAME = /^[^\\/:*?"<>|]+$/;

function baseName(input: string): string {
  const name = input.trim();
  return name.toLowerCase().endsWith(BOARD_EXTENSION) ? name.slice(0, -BOARD_EXTENSION.length) : name.replace(/\.json$/i, '');
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** The board's file in `folder`: asked for (or given), never one that exists. */
async function boardFile(folder: string, options: StoryboardOptions | undefined): Promise<vscode.Uri | undefined> {
  const uriOf = (name: string) => vscode.Uri.file(join(folder, `${baseName(name)}${BOARD_EXTENSION}`));
  const problem = async (name: string) => {
    if (!baseName(name) || !NAME.test(baseName(name))) return vscode.l10n.t('Give a file name without slashes or special characters.');
    if (await exists(uriOf(name))) return vscode.l10n.t('{0} exists already: choose another name.', `${baseName(name)}${BOARD_EXTENSION}`);
    return undefined;
  };
  const name =
    options?.name ??
    (await vscode.window.showInputBox({
      title: vscode.l10n.t('New Storyboard'),
      prompt: vscode.l10n.t('The storyboard\'s name (saved as NAME{0} in {1})', BOARD_EXTENSION, vscode.workspace.asRelativePath(folder, true)),
      value: 'storyboard',
      validateInput: problem,
    }));
  if (name === undefined) return undefined;
  const refused = await problem(name);
  if (refused) throw new UserError(refused);
  return uriOf(name);
}

async function writeAndOpen(uri: vscode.Uri, board: Board): Promise<vscode.Uri> {
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(boardText(board)));
  await vscode.commands.executeCommand('vscode.openWith', uri, STORYBOARD_VIEW_TYPE);
  return uri;
}

/** `wanStudio.newStoryboard [folder Uri] [{ name }]`: an empty board in the workspace. */
export async function newStoryboard(arg?: unknown, options?: StoryboardOptions): Promise<vscode.Uri | undefined> {
  const folder = arg instanceof vscode.Uri ? arg.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new UserError(vscode.l10n.t('Open a folder first: a storyboard is saved in the workspace.'));
  const uri = await boardFile(folder, options);
  return uri && writeAndOpen(uri, emptyBoard());
}

/** `wanStudio.makeStoryboard`: the Explorer's selected images, in the order selected, one shot between each neighbour. */
export async function makeStoryboard(arg?: unknown, all?: unknown, options?: StoryboardOptions): Promise<vscode.Uri | undefined> {
  const images = ofKind(selection(arg, all), 'image');
  if (images.length === 0) throw new UserError(vscode.l10n.t('Select the keyframe images of the storyboard in the Explorer (JPEG, PNG, BMP or WEBP).'));
  const folder = dirname(images[0]!);
  const uri = await boardFile(folder, options);
  if (!uri) return undefined;
  const keyframes = images.map((image) => relative(folder, image).split(sep).join('/'));
  return writeAndOpen(uri, boardFromKeyframes(keyframes));
}
