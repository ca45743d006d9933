// What the UI-driven scripts (panel.e2e.mjs, studio.e2e.mjs, player.e2e.mjs, docs-screenshots.mjs) share: waiting on the
// real UI, a demo workspace made from media/samples, the explorer's rows, an e2e script's start on each code-server
// version, the workbench opened with this extension, timed steps with screenshots, and the studio's in-view check.
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
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
 * `workbench.list.openMode` (single click), the first click also opens the file in VS Code's own editor or preview,
 * and the Explorer then selects the active editor's file again, dropping a Ctrl+click that came first: so the
 * selection is made again on every try, until the menu comes up on all of them.
 */
export async function explorerAction(page, names, label) {
  const row = (name) => explorerRow(page, name);
  const unselected = async () => (await Promise.all(names.map(async (n) => ((await row(n).getAttribute('aria-selected')) === 'true' ? undefined : n)))).filter(Boolean);
  // The workbench's first load can take minutes on a loaded machine.
  await row(names[0]).waitFor({ timeout: 180_000 });
  // The menu lists the extension's items once the extension host has registered it: retry until then. The
  // selection is made again on each try: the editor the first click opens (the default open mode) reveals its
  // file once it shows, which resets a selection Ctrl+clicked before, and then a multi-selection item is missing.
  await until(
    `the explorer menu item "${label}" on ${names.join(', ')}`,
    async () => {
      await row(names[0]).click();
      for (const n of names.slice(1)) await row(n).click({ modifiers: ['Control'] });
      await row(names[names.length - 1]).click({ button: 'right' });
      const entry = page.locator('.context-view .action-label', { hasText: label });
      // The menu acts on the selection it came up on: every file still selected.
      if ((await entry.waitFor({ timeout: 2000 }).then(() => true, () => false)) && !(await unselected()).length) {
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

/**
 * code-server on `workspace` with this repository's extension, and headless Chromium on its workbench.
 * `machineSettings` go where code-server reads machine-scoped settings (see startCodeServer).
 * `beforeLoad(page)` runs before the workbench loads (to listen to its console from the start).
 */
export async function openWorkbench({ install, workspace, viewport, settings = {}, machineSettings, env, beforeLoad }) {
  const { startCodeServer, workbenchUrl } = await import('../host/code-server.mjs');
  const server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, ...settings },
    ...(machineSettings ? { machineSettings } : {}),
    ...(env ? { env } : {}),
  });
  let browser;
  try {
    const launched = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport });
    browser = launched.browser;
    const page = launched.page;
    page.on('pageerror', (e) => console.error(`  [page error] ${e}`));
    await beforeLoad?.(page);
    await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded', timeout: 120_000 });
    return { server, browser, page };
  } catch (err) {
    // The caller never gets the server to stop: a load that timed out left code-server running.
    await browser?.close().catch(() => {});
    await server.stop().catch(() => {});
    throw err;
  }
}

/**
 * An e2e script's steps: each timed and listed at the end, a screenshot of the page when one fails.
 * `shot(name)` saves a screenshot in `shots` and prints its path.
 */
export function e2eSteps(getPage, shots, failurePrefix = 'failure') {
  const results = [];
  let failed = false;
  async function shot(name) {
    const file = join(shots, `${name}.png`);
    await getPage().screenshot({ path: file });
    console.log(`  screenshot: ${file}`);
  }
  async function step(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      results.push(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed = true;
      results.push(`  ✘ ${name}: ${err instanceof Error ? err.message : err}`);
      await shot(`${failurePrefix}-${name.replace(/\W+/g, '-').slice(0, 80)}`).catch(() => {});
      throw err;
    }
  }
  return {
    shot,
    step,
    results,
    fail: () => (failed = true),
    /** Prints the steps and the closing line; the exit code. */
    summary() {
      console.log(results.join('\n'));
      console.log(`e2e: ${results.filter((r) => r.startsWith('  ✔')).length} passed, ${failed ? 1 : 0} failed`);
      return failed ? 1 : 0;
    },
  };
}

/** The first frame (webviews nest their page in an inner iframe) holding `selector`. */
export function frameWith(page, selector, what, timeoutMs = 150_000) {
  return until(
    what,
    async () => {
      for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
      return undefined;
    },
    timeoutMs,
  );
}

/**
 * The studio as it first shows (both panes at their top): the prompt, Generate and the newest result lie inside the
 * webview with nothing cut off, and the webview inside the browser's window. Returns the panes' boxes.
 */
export async function studioInView(frame) {
  /* global document, window -- runs in the page */
  const box = await frame.evaluate(() => {
    for (const pane of document.querySelectorAll('#compose, #results')) pane.scrollTop = 0;
    const rect = (selector) => document.querySelector(selector)?.getBoundingClientRect().toJSON();
    return { width: window.innerWidth, height: window.innerHeight, prompt: rect('#prompt'), generate: rect('#generate'), result: rect('.task'), compose: rect('#compose'), results: rect('#results') };
  });
  // The webview itself lies inside the browser's viewport (its box is in the page's coordinates).
  const view = await (await frame.frameElement()).boundingBox();
  const screen = frame.page().viewportSize();
  assert.ok(view && view.x >= 0 && view.y >= 0 && view.x + view.width <= screen.width + 0.5 && view.y + view.height <= screen.height + 0.5, `the studio inside the ${screen.width}×${screen.height} window: ${JSON.stringify(view)}`);
  for (const name of ['prompt', 'generate', 'result']) {
    const r = box[name];
    assert.ok(r && r.top >= 0 && r.left >= 0 && r.bottom <= box.height && r.right <= box.width, `${name} in view without scrolling: ${JSON.stringify(box)}`);
  }
  return box;
}

/**
 * The notifications of the window, for every e2e script (one way to read them). Returns `notices`:
 *   - `notices()`: every notification message the workbench has put on screen since the call, however briefly
 *     (toasts hide themselves) and across reloads of the page, oldest first: an observer in the page reports each
 *     new message to this process. (Polling the toasts missed every one on VS Code 1.139 under load.)
 *   - `await notices.center()`: every message now in the notification center (the status bar's bell), one entry per
 *     notification, so a count is exact; they join `notices()` too. VS Code 1.139 shows no toast at all while it runs
 *     with --enable-smoke-test-driver (its NotificationsToasts.addToast returns early), which the harness needs to
 *     load this extension there, and an info toast hides itself after a while; the center keeps every notification
 *     of the window until the user clears it, on both versions. The center is opened to read it and closed again
 *     unless `keepOpen` (or it was open already).
 */
export async function watchNotifications(page) {
  const seen = [];
  const note = (text) => {
    if (!seen.includes(text)) seen.push(text);
  };
  await page.exposeBinding('__wanNotified', (_source, text) => note(text));
  const observe = () => {
    /* global MutationObserver -- runs in the page */
    const told = new Set();
    const record = (el) => {
      for (const m of el.querySelectorAll?.('.notification-list-item-message') ?? []) {
        const text = m.textContent?.trim();
        if (text && !told.has(text)) {
          told.add(text);
          void globalThis.__wanNotified?.(text);
        }
      }
    };
    new MutationObserver((changes) => changes.forEach((c) => [...c.addedNodes, c.target].forEach((n) => (n.nodeType === 1 ? record(n) : n.parentElement && record(n.parentElement.closest('.notification-list-item') ?? n.parentElement))))).observe(document, { childList: true, subtree: true, characterData: true });
    if (document.body) record(document.body);
  };
  await page.addInitScript(observe);
  await page.evaluate(observe).catch(() => undefined);
  const notices = () => [...seen];
  notices.center = async ({ keepOpen = false } = {}) => {
    const center = page.locator('.notifications-center');
    const bell = page.locator('[id="status.notifications"]');
    const wasOpen = await center.isVisible();
    if (!wasOpen) await bell.click();
    await center.waitFor({ timeout: 5000 });
    const messages = (await center.locator('.notification-list-item-message').allInnerTexts()).map((t) => t.trim());
    messages.forEach(note);
    if (!wasOpen && !keepOpen) {
      await bell.click();
      await center.waitFor({ state: 'hidden', timeout: 5000 });
    }
    return messages;
  };
  return notices;
}
