import * as vscode from 'vscode';
import type { PlayerHandle, PlayerManager } from '../player';

const VIDEO = /\.(mp4|mov)$/i;

/**
 * `wanStudio.playVideo [uri]`: opens (or reveals) the player for an .mp4/.mov file. Without a Uri
 * (from the palette) it asks for one. Resolves to the panel's handle, or undefined when nothing opened.
 */
export async function playVideo(players: PlayerManager, log: vscode.LogOutputChannel, arg?: unknown): Promise<PlayerHandle | undefined> {
  let file = arg instanceof vscode.Uri ? arg : undefined;
  if (!file) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: vscode.l10n.t('Play'),
      filters: { [vscode.l10n.t('Videos')]: ['mp4', 'mov'] },
    });
    file = picked?.[0];
    if (!file) return undefined;
  }
  if (!VIDEO.test(file.path)) {
    log.warn(`Player: not an .mp4 or .mov file: ${file.toString()}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Only .mp4 and .mov files can be played: {0}', file.fsPath));
    return undefined;
  }
  return players.show(file);
}
