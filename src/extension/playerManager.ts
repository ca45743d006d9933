// Opens the player panels (one per file), gives each a tab title apart from VS Code's own preview of the same
// video, and reopens them after a window reload.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import type { TaskRecord } from '../tasks/record';
import { PLAYER_VIEW_TYPE, PlayerPanel, type PlayerContext, type PlayerHandle } from './player';
import { PAGE_OPTIONS, RECREATE_EVERY_MS } from './webviews/host';

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
      return this.handle(existing, true);
    }
    const player = this.adopt(this.newPanel(file, vscode.ViewColumn.Active), file, record);
    this.ctx.log.info(`Player: opened ${file.fsPath}`);
    return this.handle(player, false);
  }

  /** `preserveFocus`: a page put in a new panel does not take the keys from where the user is typing. */
  private newPanel(file: vscode.Uri, column: vscode.ViewColumn, preserveFocus = false): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(PLAYER_VIEW_TYPE, playerTitle(file), { viewColumn: column, preserveFocus }, PAGE_OPTIONS);
  }

  private adopt(panel: vscode.WebviewPanel, file: vscode.Uri, record: TaskRecord | undefined): PlayerPanel {
    const key = file.toString();
    this.panels.get(key)?.dispose();
    const player: PlayerPanel = new PlayerPanel(
      panel,
      file,
      this.ctx,
      record,
      () => {
        if (this.panels.get(key) === player) this.panels.delete(key);
      },
      () => this.recreate(player),
    );
    this.panels.set(key, player);
    return player;
  }

  private lastRecreate = 0;

  /**
   * A page still blank after a reload (code-server's registration race, see WebviewHost.watchReady) gets a new
   * panel in the same place, for the same video; once a minute at most (RECREATE_EVERY_MS).
   */
  private recreate(old: PlayerPanel): boolean {
    if (this.panels.get(old.file.toString()) !== old || Date.now() - this.lastRecreate < RECREATE_EVERY_MS) return false;
    this.lastRecreate = Date.now();
    // Out of the map first: adopt would close it before it hands its waiters over.
    this.panels.delete(old.file.toString());
    const next = this.adopt(this.newPanel(old.file, old.panel.viewColumn ?? vscode.ViewColumn.Active, !old.panel.active), old.file, old.record);
    old.handOver(next);
    old.dispose();
    this.ctx.log.warn(`Player: the page stayed blank after a reload; ${old.file.fsPath} was opened again in a new panel.`);
    return true;
  }

  /** A page put in a new panel (recreate) is the same player to the holder of the handle; a player opened later is not. */
  private handle(opened: PlayerPanel, reused: boolean): PlayerHandle {
    const now = () => {
      let player = opened;
      while (player.replacedBy) player = player.replacedBy;
      return player.handleFor(reused);
    };
    return {
      get panel() {
        return now().panel;
      },
      get viewType() {
        return now().viewType;
      },
      get title() {
        return now().title;
      },
      file: opened.file,
      reused,
      // It follows the new page's when the page is put in a new panel (PlayerPanel.handOver).
      metadata: opened.metadata,
      lastLoad: () => now().lastLoad(),
      fileOf: (src) => now().fileOf(src),
      lastNotice: () => now().lastNotice(),
      audioReport: (source) => now().audioReport(source),
      deliver: (raw) => now().deliver(raw),
      captureFrame: (at) => now().captureFrame(at),
    };
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
