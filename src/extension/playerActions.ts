// The player's actions on the host side: system player, clipboard, and hand-offs to the generation panel.
import { randomInt } from 'node:crypto';
import * as vscode from 'vscode';
import { continueArgs, frameArgs, generateAgainArgs, type OpenGeneratorArgs, type VideoFacts } from '../player/facts';
import { SEED_MAX } from '../wan/limits';

export const OPEN_GENERATOR_COMMAND = 'wanStudio.openGenerator';

/** Opens the generation panel prefilled (or fills the open one). */
export async function openGenerator(args: OpenGeneratorArgs, log: vscode.LogOutputChannel): Promise<boolean> {
  log.info(`Player: opening the generator (${args.mode ?? 'default'} mode)`);
  await vscode.commands.executeCommand(OPEN_GENERATOR_COMMAND, args);
  return true;
}

/**
 * The system's default player. Desktop only: in a browser (code-server, vscode.dev) or a remote window the
 * file is on another machine, so VS Code's own editor for it is opened instead, with a word why.
 */
export async function openInSystemPlayer(file: vscode.Uri, log: vscode.LogOutputChannel): Promise<void> {
  if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
    const ok = await vscode.env.openExternal(file);
    if (ok) return;
    log.warn(`Player: the system refused to open ${file.fsPath}`);
  }
  void vscode.window.showInformationMessage(
    vscode.l10n.t('The video is on another machine than this window, so no system player can open it here. Opening it in VS Code instead; download it to play it with your own player.'),
  );
  await vscode.commands.executeCommand('vscode.open', file);
}

export async function copyPrompt(facts: VideoFacts | undefined): Promise<boolean> {
  const prompt = facts?.prompt || facts?.orig_prompt;
  if (!prompt) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No prompt is recorded for this video.'));
    return false;
  }
  await vscode.env.clipboard.writeText(prompt);
  void vscode.window.setStatusBarMessage(vscode.l10n.t('Prompt copied.'), 3000);
  return true;
}

/** Asks for the seed unless the page already said: same (when known) or a new random one. */
export async function generateAgain(facts: VideoFacts | undefined, choice: 'same' | 'new' | undefined, log: vscode.LogOutputChannel): Promise<boolean> {
  if (!facts) {
    void vscode.window.showInformationMessage(vscode.l10n.t('The settings of this video are unknown (no sidecar file beside it), so it cannot be generated again.'));
    return false;
  }
  let seedChoice = facts.seed === undefined ? 'new' : choice;
  if (!seedChoice) {
    const same = { label: vscode.l10n.t('Same seed ({0})', String(facts.seed)), detail: vscode.l10n.t('Reproduce this video as closely as the service allows.'), choice: 'same' as const };
    const fresh = { label: vscode.l10n.t('New seed'), detail: vscode.l10n.t('A variation with the same settings.'), choice: 'new' as const };
    const picked = await vscode.window.showQuickPick([same, fresh], { title: vscode.l10n.t('Generate Again'), placeHolder: vscode.l10n.t('Which seed?') });
    if (!picked) return false;
    seedChoice = picked.choice;
  }
  const seed = seedChoice === 'same' ? facts.seed : randomInt(0, SEED_MAX + 1);
  return openGenerator(generateAgainArgs(facts, seed), log);
}

export function continueVideo(file: vscode.Uri, facts: VideoFacts | undefined, log: vscode.LogOutputChannel): Promise<boolean> {
  return openGenerator(continueArgs(file.fsPath, facts), log);
}

/** After a frame was saved: offer it as the first or last frame of a new generation (not awaited by callers). */
export async function offerFrame(png: vscode.Uri, log: vscode.LogOutputChannel): Promise<void> {
  const first = vscode.l10n.t('Use as First Frame');
  const last = vscode.l10n.t('Use as Last Frame');
  const picked = await vscode.window.showInformationMessage(vscode.l10n.t('Frame saved as {0}.', vscode.workspace.asRelativePath(png)), first, last);
  if (picked) await openGenerator(frameArgs(png.fsPath, picked === first ? 'first' : 'last'), log);
}
