// End-to-end: the player opened right after VS Code's own preview of the same video. With the default
// `workbench.list.openMode` (single click opens), selecting clip.mp4 opens VS Code's media preview (a webview);
// right-click → Play in Wan Studio must then show a playing video within 5 s, in a tab whose title differs
// from the preview's. (Issue 11.7: the player's inner frame was never created, for over a minute.)
//
// Prerequisites: `node esbuild.mjs`. Run: node test/e2e/player.e2e.mjs (part of npm run test:e2e)
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, explorerAction, explorerRow, sampleWorkspace, until } from './workbench.mjs';

const { install, shots: SHOTS } = await e2eCodeServer(import.meta.filename);
const { startCodeServer, workbenchUrl } = await import('../host/code-server.mjs');

const { work, workspace } = sampleWorkspace('wan-e2e-player-');
const PLAYS_WITHIN_MS = 5000;

let server;
let browser;
let page;
let failed = false;
let passed = 0;

/** The frame of the Wan Studio player page whose video has decoded a picture. */
async function playingPlayer() {
  if (process.env.WAN_DEBUG) console.error(`  ${Date.now() % 100000} frames: ${page.frames().map((f) => f.url().replace(/^.*\/(index\.html|fake\.html).*$/, '$1').slice(0, 60)).join(' | ')}`);
  for (const f of page.frames()) {
    const video = await f.$('#video').catch(() => null);
    if (video && (await video.evaluate((v) => v.readyState >= 2 && v.videoWidth > 0).catch(() => false))) return f;
  }
  return undefined;
}

try {
  // Left at VS Code's defaults on purpose: no `workbench.list.openMode`.
  server = await startCodeServer({ codeServer: install, folder: workspace, settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false } });
  ({ browser, page } = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport: { width: 1400, height: 950 } }));
  page.on('pageerror', (e) => console.error(`  [page error] ${e}`));
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded', timeout: 120_000 });

  const t0 = Date.now();
  // Wait for the extension hosts (else a click opens clip.mp4 as binary text: the preview is not registered yet).
  await explorerRow(page, 'first-frame.jpg').waitFor({ timeout: 60_000 });
  await until(
    'the extension\'s explorer menu',
    async () => {
      await explorerRow(page, 'first-frame.jpg').click({ button: 'right' });
      const there = await page.locator('.context-view .action-label', { hasText: 'Generate Video from Image' }).waitFor({ timeout: 2000 }).then(() => true, () => false);
      await page.keyboard.press('Escape');
      return there;
    },
    60_000,
  );
  // A single click opens VS Code's own preview of the video.
  await explorerRow(page, 'clip.mp4').click();
  await until(
    'VS Code\'s preview of clip.mp4',
    async () => {
      if (process.env.WAN_DEBUG) console.error(`  ${Date.now() % 100000} frames: ${page.frames().map((f) => f.url().slice(-50)).join(' | ')}`);
      for (const f of page.frames()) if (await f.$('video:not(#video)').catch(() => null)) return true;
      return false;
    },
    60_000,
  );
  // Then, at once, right-click → Play in Wan Studio (the menu item appears once the extension is registered).
  await explorerAction(page, ['clip.mp4'], 'Play in Wan Studio');
  const asked = Date.now();
  const frame = await until('the player playing clip.mp4', playingPlayer, 90_000, 100).catch(async (err) => {
    await page.screenshot({ path: join(SHOTS, 'failure-player-after-preview.png') });
    throw err;
  });
  const took = Date.now() - asked;
  console.log(`  the player shows the video ${took} ms after Play in Wan Studio (${((asked - t0) / 1000).toFixed(1)} s to get there)`);
  assert.ok(took <= PLAYS_WITHIN_MS, `the player showed the video after ${took} ms, more than ${PLAYS_WITHIN_MS} ms`);
  const size = await frame.$eval('#video', (v) => `${v.videoWidth}x${v.videoHeight}`);
  assert.equal(size, '480x640');
  const titles = await page.locator('.tabs-container .tab .label-name').allInnerTexts();
  const player = titles.filter((t) => t.includes('clip.mp4') && t.includes('Wan Studio'));
  assert.equal(player.length, 1, `one player tab titled apart from the preview: ${JSON.stringify(titles)}`);
  await page.screenshot({ path: join(SHOTS, 'player-after-preview.png') });
  passed++;
  console.log('  ✔ the player opened right after VS Code\'s preview of the same video plays within 5 s');
} catch (err) {
  failed = true;
  await page?.screenshot({ path: join(SHOTS, 'failure-player-after-preview.png') }).catch(() => {});
  console.error(`  ✘ player after preview: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
console.log(`e2e: ${passed} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
