// Opens the player panels (one per file), gives each a tab title apart from VS Code's own preview of the same
// video, and reopens them after a window reload.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import type { TaskRecord } from '../tasks/record';
import { PLAYER_VIEW_TYPE, PlayerPanel, type PlayerContext, type PlayerHandle } from './player';
import { PAGE_OPTIONS } from './webviews/host';

/** What the page keeps with setState (webview/player/main.ts). */
const RevivedState = z.object({ file: z.string().min(1) });

/** VS Code's preview tab shows the bare file name; the player's says whose it is. */
export function playerTitle(file: vscode.Uri): string {
  return vscode.l10n.t('{0} — Wan Studio', path.basename(file.fsPath));
}

/** Opens player panels, one per file, and closes them all when disposed. */
export class PlayerManager implements vscode.Disposable {
  private readonly panels = new Map<string, PlayerPanel>();

  private readonly registration: vscode.Disposable;

  /** `register`: the activation shell's, which registered the serializer before this part was loaded. */
  constructor(
    private readonly ctx: PlayerContext,
    register: (viewType: string, serializer: vscode.WebviewPanelSerializer) => vscode.Disposable = (t, s) => vscode.window.registerWebviewPanelSerializer(t, s),
  ) {
    this.registration = register(PLAYER_VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: unknown) => this.revive(panel, state),
    });
  }

  /** `record`: the task the video came from, when the caller has it (else the sidecar beside the file is read). */
  show(file: vscode.Uri, record?: TaskRecord): PlayerHandle {
    const existing = this.panels.get(file.toString());
    if (existing) {
      existing.panel.reveal();
      return existing.handleFor(true);
    }
    const panel = vscode.window.createWebviewPanel(PLAYER_VIEW_TYPE, playerTitle(file), vscode.ViewColumn.Active, PAGE_OPTIONS);
    const player = this.adopt(panel, file, record);
    this.ctx.log.info(`Player: opened ${file.fsPath}`);
    return player.handleFor(false);
  }

  private adopt(panel: vscode.WebviewPanel, file: vscode.Uri, record: TaskRecord | undefined): PlayerPanel {
    const key = file.toString();
    this.panels.get(key)?.dispose();
    const player = new PlayerPanel(panel, file, this.ctx, record, () => {
      if (this.panels.get(key) === player) this.panels.delete(key);
    });
    this.panels.set(key, player);
    return player;
  }

  /** After a window reload: the page kept its video's path (setState); reopen it, or close a panel without one. */
  private async revive(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const parsed = RevivedState.safeParse(state);
    const file = parsed.success ? vscode.Uri.file(parsed.data.file) : undefined;
    const exists = file && (await vscode.workspace.fs.stat(file).then(() => true, () => false));
    if (!file || !exists) {
      this.ctx.log.info(`Player: not reopened after the reload (${file ? `${file.fsPath} is gone` : 'no video was kept'}).`);
      panel.dispose();
      return;
    }
    panel.title = playerTitle(file);
    this.adopt(panel, file, undefined);
    this.ctx.log.info(`Player: reopened ${file.fsPath} after a reload.`);
  }

  dispose(): void {
    this.registration.dispose();
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}
