// The video player panel: one WebviewPanel per file, showing it in a <video controls> element.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebviewMessage, type VideoMetadata, type WebviewToHostMessage } from '../protocol/player';

export const PLAYER_VIEW_TYPE = 'wanStudio.player';

/** What `wanStudio.playVideo` resolves to: enough for automation and tests to follow the panel. */
export interface PlayerHandle {
  readonly panel: vscode.WebviewPanel;
  readonly viewType: string;
  readonly title: string;
  readonly file: vscode.Uri;
  /** True when an existing panel for the same file was revealed instead of a new one opened. */
  readonly reused: boolean;
  /**
   * Resolves with the first metadata the webview reports; rejects if the webview reports a media error
   * first or the panel closes before any metadata arrived.
   */
  readonly metadata: Promise<VideoMetadata>;
}

const nonce = () => randomBytes(18).toString('base64');

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

class PlayerPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private settle!: { resolve: (m: VideoMetadata) => void; reject: (e: Error) => void };
  private settled = false;
  readonly metadata: Promise<VideoMetadata>;
  lastMetadata: VideoMetadata | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly file: vscode.Uri,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    onDispose: () => void,
  ) {
    this.metadata = new Promise<VideoMetadata>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody has to wait for the metadata; don't let an unobserved rejection surface.
    this.metadata.catch(() => undefined);

    // Listen before the HTML is set, so the first `ready` is never missed.
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) =>
        this.receive(raw).catch((error: unknown) => this.log.warn(`Player message failed: ${String(error)}`)),
      ),
      panel.onDidDispose(() => {
        onDispose();
        this.dispose();
      }),
    );
    panel.webview.html = this.render();
  }

  private render(): string {
    const webview = this.panel.webview;
    const n = nonce();
    const pages = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(pages, 'player.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(pages, 'player.css'));
    const csp = [
      `default-src 'none'`,
      `img-src ${webview.cspSource}`,
      `media-src ${webview.cspSource}`,
      `style-src ${webview.cspSource} 'nonce-${n}'`,
      `script-src 'nonce-${n}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="${escapeAttr(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${n}" href="${escapeAttr(style.toString())}">
<title>${escapeAttr(path.basename(this.file.fsPath))}</title>
</head>
<body>
<main>
  <h1 id="title"></h1>
  <video id="video" controls preload="metadata"></video>
  <dl id="details"></dl>
  <p id="status" role="status"></p>
  <vscode-button id="reveal" secondary></vscode-button>
</main>
<script type="module" nonce="${n}" src="${escapeAttr(script.toString())}"></script>
</body>
</html>`;
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`Player: ignored an invalid message from the webview: ${parsed.error}`);
      return;
    }
    await this.handle(parsed.message);
  }

  private async handle(message: WebviewToHostMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.sendLoad();
        return;
      case 'metadata': {
        const { width, height, duration } = message;
        this.lastMetadata = { width, height, duration };
        this.log.info(`Player: ${this.file.fsPath} is ${width}x${height}, ${duration.toFixed(2)} s`);
        if (!this.settled) {
          this.settled = true;
          this.settle.resolve(this.lastMetadata);
        }
        return;
      }
      case 'mediaError':
        this.log.warn(`Player: cannot play ${this.file.fsPath}: ${message.message}`);
        if (!this.settled) {
          this.settled = true;
          this.settle.reject(new Error(message.message));
        }
        return;
      case 'reveal':
        await vscode.commands.executeCommand('revealInExplorer', this.file);
        return;
    }
  }

  private async sendLoad(): Promise<void> {
    let bytes = 0;
    try {
      bytes = (await vscode.workspace.fs.stat(this.file)).size;
    } catch (error) {
      this.log.warn(`Player: cannot stat ${this.file.fsPath}: ${String(error)}`);
    }
    if (this.disposed) return;
    const message: HostToWebviewMessage = {
      type: 'load',
      src: this.panel.webview.asWebviewUri(this.file).toString(),
      title: path.basename(this.file.fsPath),
      bytes,
      locale: vscode.env.language,
      labels: {
        size: vscode.l10n.t('Size'),
        duration: vscode.l10n.t('Duration'),
        dimensions: vscode.l10n.t('Dimensions'),
        loading: vscode.l10n.t('Loading…'),
        reveal: vscode.l10n.t('Reveal in Explorer'),
        mediaError: vscode.l10n.t('This video cannot be played: {0}'),
      },
    };
    await this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.settled) {
      this.settled = true;
      this.settle.reject(new Error('The player was closed before the video loaded.'));
    }
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** Opens player panels, one per file, and closes them all when disposed. */
export class PlayerManager implements vscode.Disposable {
  private readonly panels = new Map<string, PlayerPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  show(file: vscode.Uri): PlayerHandle {
    const key = file.toString();
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal();
      return this.handle(existing, true);
    }
    const folder = vscode.Uri.joinPath(file, '..');
    const panel = vscode.window.createWebviewPanel(PLAYER_VIEW_TYPE, path.basename(file.fsPath), vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
        folder,
      ],
    });
    const player = new PlayerPanel(panel, file, this.extensionUri, this.log, () => {
      if (this.panels.get(key) === player) this.panels.delete(key);
    });
    this.panels.set(key, player);
    this.log.info(`Player: opened ${file.fsPath}`);
    return this.handle(player, false);
  }

  private handle(player: PlayerPanel, reused: boolean): PlayerHandle {
    return {
      panel: player.panel,
      viewType: player.panel.viewType,
      title: player.panel.title,
      file: player.file,
      reused,
      metadata: player.metadata,
    };
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}
