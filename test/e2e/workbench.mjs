// What the UI-driven scripts (panel.e2e.mjs, player.e2e.mjs, docs-screenshots.mjs) share: waiting on the real UI, a demo
// workspace made from media/samples, the explorer's rows, and an e2e script's start on each code-server version.
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { codeServerVersions, installCodeServer, REPO_ROOT } from '../host/install-code-server.mjs';
import { runPerCodeServer } from '../host/per-code-server.mjs';

/** Polls `fn` until it gives a truthy value (a throw counts as not yet); fails after `timeoutMs`. */
export async function until(what, fn, timeoutMs, pollMs = 300) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** A temporary folder with a workspace holding the sample first frame, last frame and clip. */
export function sampleWorkspace(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  cpSync(join(REPO_ROOT, 'media', 'samples'), workspace, { recursive: true });
  return { work, workspace };
}

/** The explorer row of a file or folder by its name. */
export function explorerRow(page, name) {
  return page.locator('.explorer-folders-view .monaco-list-row', { hasText: name });
}

/**
 * Selects files in the explorer (Ctrl+click for more) and runs an item of their context menu. With the default
 * `workbench.list.openMode`, the first click also opens the file in VS Code's own editor or preview.
 */
export async function explorerAction(page, names, label) {
  const row = (name) => explorerRow(page, name);
  await row(names[0]).waitFor({ timeout: 60_000 });
  await row(names[0]).click();
  for (const n of names.slice(1)) await row(n).click({ modifiers: ['Control'] });
  // The menu lists the extension's items once the extension host has registered it: retry until then.
  await until(
    `the explorer menu item "${label}"`,
    async () => {
      await row(names[names.length - 1]).click({ button: 'right' });
      const entry = page.locator('.context-view .action-label', { hasText: label });
      if (await entry.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
        // VS Code's menus act on the focused item; hovering focuses it.
        await entry.hover();
        await page.keyboard.press('Enter');
        return true;
      }
      await page.keyboard.press('Escape');
      return false;
    },
    60_000,
  );
}

/**
 * An e2e script's start: with more than one code-server version chosen, runs the script once per version in
 * a child and exits with their result; else installs the one version and makes its screenshots folder (one
 * per VS Code version, so the second run keeps the first one's pictures).
 * @param {string} script the calling script (import.meta.filename)
 */
export async function e2eCodeServer(script) {
  const versions = codeServerVersions('all');
  if (versions.length > 1) process.exit(await runPerCodeServer('e2e', script, versions));
  const install = installCodeServer({ version: versions[0], chromium: true });
  console.log(`code-server ${install.version} (VS Code ${install.vscodeVersion})`);
  const shots = join(REPO_ROOT, 'test', 'e2e', 'screenshots', `vscode-${install.vscodeVersion}`);
  mkdirSync(shots, { recursive: true });
  return { install, shots };
}
