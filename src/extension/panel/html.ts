// The generation page's HTML: a strict CSP with a fresh nonce; scripts and styles only from dist/.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function generatorHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'generate.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'generate.css'));
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource}`,
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
<title>${escapeAttr(title)}</title>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script type="module" nonce="${nonce}" src="${escapeAttr(script.toString())}"></script>
</body>
</html>`;
}
