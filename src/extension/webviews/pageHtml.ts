// The HTML shell of every webview page: a strict CSP with a fresh nonce, the page's script and style from
// dist/webview/, and the page's own body. One place, so both pages get the same policy.
// The script and style are written into the page, not linked: in code-server 1.100 a page closed while one of
// its resource loads is under way holds every webview opened in the next 30 s blank (src/protocol/mediaRef.ts
// tells the whole story), and a page that loads nothing through the resource loader can never cause that.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';

export const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface PageOptions {
  /** The bundle's name: dist/webview/<page>.js and .css. */
  page: 'generate' | 'player' | 'gallery' | 'storyboard';
  title: string;
  /** Markup inside <body>, before the script. */
  body: string;
}

export function pageHtml(extensionUri: vscode.Uri, options: PageOptions): string {
  const nonce = randomBytes(18).toString('base64');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  // `<\/` is the same text inside a script's strings and patterns, and cannot end the element early.
  const script = readFileSync(vscode.Uri.joinPath(dist, `${options.page}.js`).fsPath, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  const style = readFileSync(vscode.Uri.joinPath(dist, `${options.page}.css`).fsPath, 'utf8').replace(/<\/(style)/gi, '<\\/$1');
  const csp = [
    `default-src 'none'`,
    // Nothing loads through the webview's resource loader, so its origin is not allowed at all. data: for
    // vscode-elements' own inline pictures (the text area's resize grip); blob: for the media the host sends
    // through the message channel (src/protocol/mediaRef.ts); never a network or file load.
    `img-src data: blob:`,
    `media-src blob:`,
    // vscode-elements' web components adopt their styles through constructable stylesheets.
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeAttr(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${style}</style>
<title>${escapeAttr(options.title)}</title>
</head>
<body>
${options.body}
<script type="module" nonce="${nonce}">${script}</script>
</body>
</html>`;
}
