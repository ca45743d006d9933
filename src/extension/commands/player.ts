import * as vscode from 'vscode';
import { TaskRecordSchema, type TaskRecord } from '../../tasks/record';
import type { PlayerHandle } from '../player';
import type { PlayerManager } from '../playerManager';

const VIDEO = /\.(mp4|mov)$/i;

/** `{ file, record }` from the task view: the record's facts are shown instead of the sidecar's. */
function fileAndRecord(arg: unknown, log: vscode.LogOutputChannel): { file?: vscode.Uri; record?: TaskRecord } {
  if (arg instanceof vscode.Uri) return { file: arg };
  if (!arg || typeof arg !== 'object' || !('file' in arg)) return {};
  const { file, record } = arg as { file: unknown; record?: unknown };
  const uri = file instanceof vscode.Uri ? file : typeof file === 'string' && file ? vscode.Uri.file(file) : undefined;
  if (record === undefined) return { file: uri };
  const parsed = TaskRecordSchema.safeParse(record);
  if (!parsed.success) log.warn('Player: ignored an invalid task record passed to playVideo; reading the sidecar instead.');
  return { file: uri, record: parsed.success ? parsed.data : undefined };
}

/**
 * `wanStudio.playVideo [uri | { file, record }]`: opens (or reveals) the player for an .mp4/.mov file. Without a
 * file (from the palette) it asks for one. Resolves to the panel's handle, or undefined when nothing opened.
 */
export async function playVideo(players: PlayerManager, log: vscode.LogOutputChannel, arg?: unknown): Promise<PlayerHandle | undefined> {
  const given = fileAndRecord(arg, log);
  let file = given.file;
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
  return players.show(file, given.record);
}
