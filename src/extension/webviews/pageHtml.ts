// The HTML shell of every webview page: a strict CSP with a fresh nonce, the page's script and style from
// dist/webview/, and the page's own body. One place, so both pages get the same policy.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface PageOptions {
  /** The bundle's name: dist/webview/<page>.js and .css. */
  page: 'generate' | 'player' | 'gallery' | 'storyboard';
  title: string;
  /** Markup inside <body>, before the script. */
  body: string;
}

export function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, options: PageOptions): string {
  const nonce = randomBytes(18).toString('base64');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${options.page}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, `${options.page}.css`));
  const csp = [
    `default-src 'none'`,
    // data: for vscode-elements' own inline pictures (the text area's resize grip); never a network or file load.
    `img-src ${webview.cspSource} data:`,
    `media-src ${webview.cspSource}`,
    // vscode-elements' web components adopt their styles through constructable stylesheets.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeAttr(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${escapeAttr(style.toString())}">
<title>${escapeAttr(options.title)}</title>
</head>
<body>
${options.body}
<script type="module" nonce="${nonce}" src="${escapeAttr(script.toString())}"></script>
</body>
</html>`;
}
