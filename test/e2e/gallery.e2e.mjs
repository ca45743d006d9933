// End-to-end, as a new user would: three images in the Explorer → Generate Video from Image → one batch of three.
// The Tasks view shows three rows told apart by their image, each with its video's poster frame, and one
// notification ("3 videos ready"); the Gallery lists the three with a video the CLI saved in the same folder,
// and its search finds that one. Screenshots go to test/e2e/screenshots/vscode-<version>/ (ignored by git).
//
// Prerequisites: `node esbuild.mjs`. Run: node test/e2e/gallery.e2e.mjs
/* global getComputedStyle -- page.evaluate callbacks run in the browser */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, explorerAction, sampleWorkspace, until } from './workbench.mjs';

const { install, shots: SHOTS } = await e2eCodeServer(import.meta.filename);
const { startCodeServer, workbenchUrl } = await import('../host/code-server.mjs');

const { work, workspace } = sampleWorkspace('wan-e2e-gallery-');
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'third.jpg'));
// A video the CLI saved (`wan-video generate --out videos`): no record beside it, named by its task ID.
mkdirSync(join(workspace, 'videos'), { recursive: true });
copyFileSync(join(workspace, 'clip.mp4'), join(workspace, 'videos', 'wan-cli0task0e2e.mp4'));

let server;
let browser;
let page;
let failed = false;
const results = [];

async function shot(name) {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot: ${file}`);
}

async function frameWith(selector, what, timeoutMs) {
  return until(
    what,
    async () => {
      for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
      return undefined;
    },
    timeoutMs,
  );
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed = true;
    results.push(`  ✘ ${name}: ${err instanceof Error ? err.message : err}`);
    await shot(`failure-gallery-${name.replace(/\W+/g, '-')}`).catch(() => {});
    throw err;
  }
}

const ROW_SUFFIX = ' · batch: a gentle zoom';

try {
  server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'workbench.list.openMode': 'doubleClick' },
  });
  ({ browser, page } = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport: { width: 1400, height: 950 } }));
  page.on('pageerror', (e) => console.error(`  [page error] ${e}`));
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded', timeout: 120_000 });

  await step('three images → Generate Video from Image → three rows told apart, with poster frames, and one notification', async () => {
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg', 'third.jpg'], 'Generate Video from Image');
    const frame = await frameWith('#generate', 'the generation page', 150_000);
    await until('Generate 3 Videos', async () => /3/.test(await frame.locator('#generate').innerText()), 30_000);
    await frame.locator('#prompt textarea').fill('batch: a gentle zoom');
    await frame.locator('#duration input').fill('2');
    await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null, 30_000);
    await frame.locator('#generate').click();
    // Toasts hide themselves after a while: watch for them from now on.
    const seen = new Set();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const t of await page.locator('.notification-toast').allInnerTexts().catch(() => [])) seen.add(t.split('\n')[0]);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    // The Wan Studio side bar: its Tasks view.
    await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click();
    const rows = page.locator('.monaco-list-row', { hasText: ROW_SUFFIX });
    await until('three batch rows', async () => (await rows.count()) === 3, 60_000);
    const labels = await rows.allInnerTexts();
    assert.deepEqual(labels.map((l) => l.split(ROW_SUFFIX)[0].trim()).sort(), ['first-frame.jpg', 'last-frame.jpg', 'third.jpg'], labels.join(' | '));
    await shot('gallery-1-batch-running');
    // Saved: each row's icon is its poster frame (an image, not a codicon).
    await until(
      'three saved rows with poster icons',
      async () => {
        const texts = await rows.allInnerTexts();
        if (!texts.every((t) => /Saved/.test(t))) return false;
        const icons = await rows.locator('.custom-view-tree-node-item-icon').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundImage));
        return icons.length === 3 && icons.every((b) => /url\(/.test(b));
      },
      240_000,
      1000,
    );
    await until('the batch notification', async () => [...seen].some((t) => /videos ready/.test(t)), 60_000);
    watching = false;
    await watcher;
    const ready = [...seen].filter((t) => /ready/.test(t));
    assert.deepEqual(ready, ['3 videos ready: first-frame.jpg, last-frame.jpg, third.jpg'], 'one notification, none per video');
    await shot('gallery-2-batch-saved-with-posters');
  });

  await step('the Gallery lists the batch and the CLI video; search finds the CLI one', async () => {
    // Show, in the notification, opens the Gallery (the toast may have hidden itself by now: the view is open anyway).
    await page
      .locator('.notification-toast', { hasText: 'videos ready' })
      .locator('.monaco-button', { hasText: 'Show' })
      .first()
      .click({ timeout: 3000 })
      .catch(() => undefined);
    const gallery = await frameWith('#grid', 'the Gallery page', 90_000);
    await until('four cards', async () => (await gallery.locator('.card').count()) >= 4, 60_000);
    const names = await gallery.locator('.card .file').allInnerTexts();
    assert.ok(names.includes('wan-cli0task0e2e.mp4'), names.join(', '));
    await until(
      'poster thumbnails',
      async () => (await gallery.locator('.card img.thumb').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length)) >= 3,
      120_000,
      1000,
    );
    await shot('gallery-3-gallery');
    await gallery.locator('#search input').fill('wan-cli0task0e2e');
    await until('one card', async () => (await gallery.locator('.card').count()) === 1, 20_000);
    assert.match(await gallery.locator('.card .file').innerText(), /wan-cli0task0e2e\.mp4/);
    assert.match(await gallery.locator('#count').innerText(), /^1 of \d+ videos$/);
    await shot('gallery-4-search');
  });
} catch (err) {
  failed = true;
  console.error(`e2e: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
for (const r of results) console.log(r);
console.log(`e2e: ${results.filter((r) => r.includes('✔')).length} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
