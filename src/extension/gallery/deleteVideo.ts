// `wanStudio.deleteVideo`: a saved video, its record beside it and its task in the list, after the user confirms.
import { rm, readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { parseSidecar, sidecarPathOf } from '../../tasks/sidecar';
import { UserError } from '../userError';
import type { WanContext } from '../context';
import { fileName } from '../tasks/present';
import { VideoNode } from '../tasks/tree';

function fileOf(arg: unknown): string | undefined {
  if (arg instanceof VideoNode) return arg.file;
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg === 'string') return arg;
  return undefined;
}

/** Deletes after a modal confirmation (`confirm: false` for tests); true when it deleted. */
export async function deleteVideo(ctx: WanContext, arg: unknown, options?: { confirm?: boolean }): Promise<boolean> {
  const file = fileOf(arg);
  if (!file || !/\.mp4$/i.test(file)) throw new UserError(vscode.l10n.t('Choose a saved video to delete.'));
  const sidecar = sidecarPathOf(file);
  // Only a record of ours is deleted with the video (a .json of the same name may be something else).
  const ours = parseSidecar(await readFile(sidecar, 'utf8').catch(() => '')) !== undefined;
  const records = ctx.tasks.all().filter((r) => r.save?.file === file);
  if (options?.confirm !== false) {
    const remove = vscode.l10n.t('Delete');
    const detail = ours
      ? vscode.l10n.t('The video and its record {0} are deleted from the disk, and its task from the list. This cannot be undone.', fileName(sidecar))
      : vscode.l10n.t('The video is deleted from the disk, and its task from the list. This cannot be undone.');
    const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Delete {0}?', fileName(file)), { modal: true, detail }, remove);
    if (choice !== remove) return false;
  }
  try {
    await rm(file, { force: true });
    if (ours) await rm(sidecar, { force: true });
  } catch (error) {
    throw new UserError(vscode.l10n.t('{0} could not be deleted: {1}', fileName(file), error instanceof Error ? error.message : String(error)));
  }
  if (records.length) await ctx.tasks.engine.remove(records.map((r) => r.id));
  ctx.posters.forget(file);
  ctx.gallery.refresh();
  ctx.log.info(`Deleted ${file}${ours ? ` and ${sidecar}` : ''}${records.length ? ` and ${records.length} task(s)` : ''}`);
  return true;
}
