// npm run docs:screenshots: the README's pictures, taken from the real UI. Drives code-server's workbench
// through Playwright (clicks and keys only, like panel.e2e.mjs) against the embedded emulator with no key:
// right-click an image → Generate Video from Image → fill the form → Generate, and again with Ctrl+Enter (another
// seed) → the two takes in the studio's gallery → hover plays one → the two compared side by side → the Tasks view
// shows them Saved → Play opens one in the player. At 1280×720, a laptop screen.
// Writes media/docs/panel.png, compare.png, tasks.png, player.png and demo.gif (the steps as an animated GIF, made with the
// project's ffmpeg), and prints their sizes. The extension comes from this repository (run `node esbuild.mjs` first;
// the npm script does).
/* global document -- page.evaluate callbacks run in the browser */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
import { codeServerVersions, installCodeServer, REPO_ROOT } from '../host/install-code-server.mjs';
import { explorerRow, sampleWorkspace, until } from './workbench.mjs';

const OUT = join(REPO_ROOT, 'media', 'docs');
const VIEWPORT = { width: 1280, height: 720 };
/** Seconds each step of the demo stays on screen. */
const DEMO_STEP_SECONDS = 1.6;

// The pictures in media/docs/ were taken on the oldest tested version; `--code-server=newest` takes them on the newest.
const [version, ...more] = codeServerVersions('oldest');
if (more.length) throw new Error('docs:screenshots runs on one code-server version');
const install = installCodeServer({ version, chromium: true });
const { startCodeServer, workbenchUrl } = await import('../host/code-server.mjs');

const { work, workspace } = sampleWorkspace('wan-docs-');
const frames = join(work, 'frames');
mkdirSync(frames, { recursive: true });
mkdirSync(OUT, { recursive: true });

let server;
let browser;
let page;
let demoFrames = 0;
let code = 1;

/** One step of the animated demo. */
async function demo() {
  demoFrames++;
  await page.screenshot({ path: join(frames, `${String(demoFrames).padStart(2, '0')}.png`) });
}

/** One of the README's still pictures. */
async function still(name) {
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  ${file}`);
}

function row(name) {
  return explorerRow(page, name);
}

/** Opens the context menu of `target` and runs `label`, retrying until the extension has registered its items. */
async function contextAction(target, label, { onMenu } = {}) {
  await until(
    `the menu item "${label}"`,
    async () => {
      await target.click({ button: 'right' });
      const entry = page.locator('.context-view .action-label', { hasText: label }).first();
      if (await entry.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
        await entry.hover();
        if (onMenu) await onMenu();
        await page.keyboard.press('Enter');
        return true;
      }
      await page.keyboard.press('Escape');
      return false;
    },
    60_000,
  );
}

/** The first frame (webviews nest their page in an inner iframe) for which `probe` holds. */
async function frameWhere(what, probe) {
  return until(
    what,
    async () => {
      for (const f of page.frames()) if (await probe(f).catch(() => false)) return f;
      return undefined;
    },
    60_000,
  );
}

try {
  server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'workbench.tips.enabled': false },
    // Long enough to catch the task running in the demo.
    env: { WAN_EMULATOR_ARGS: '--pending-ms 1500 --running-ms 4000' },
  });
  ({ browser, page } = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport: VIEWPORT }));
  page.on('pageerror', (e) => console.error(`  [page error] ${e}`));
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded' });

  // 1. Right-click an image.
  await row('first-frame.jpg').waitFor({ timeout: 60_000 });
  await row('first-frame.jpg').click();
  await contextAction(row('first-frame.jpg'), 'Generate Video from Image', { onMenu: demo });

  // 2. The panel, prefilled; fill the prompt and a short duration.
  const panel = await frameWhere('the generation page', async (f) => !!(await f.$('#generate')));
  await until('the probe', async () => /JPEG/.test(await panel.locator('#slot-firstFrame .probe').innerText()), 30_000);
  await demo();
  await panel.locator('#prompt textarea').fill('the cat slowly looks up at the camera, soft morning light');
  await panel.locator('#duration input').fill('3');
  await until('Generate enabled', async () => (await panel.locator('#generate').getAttribute('disabled')) === null, 20_000);
  await sleep(500);
  await demo();

  // 3. Generate, then a second take (an empty seed is a new random one) with Ctrl+Enter: both in the gallery.
  await panel.locator('#generate').click();
  await until('the task card', async () => (await panel.locator('.task').count()) > 0, 20_000);
  await sleep(1500);
  await demo();
  await until('Generate enabled again', async () => (await panel.locator('#generate').getAttribute('disabled')) === null, 20_000);
  await panel.locator('#prompt textarea').focus();
  await page.keyboard.press('Control+Enter');
  await until('two cards', async () => (await panel.locator('.task').count()) === 2, 20_000);
  await until('both posters', async () => (await panel.locator('.task[data-poster]').count()) === 2, 150_000);
  await page.locator('.notification-toast .codicon-notifications-clear').first().click().catch(() => undefined);
  await page.mouse.move(0, 400);
  await sleep(800);
  await demo();
  await still('panel');
  const first = panel.locator('.task video').first();
  await first.hover();
  await until('the hovered take playing', async () => first.evaluate((v) => !v.paused && v.currentTime > 0.5), 20_000);
  await demo();

  // The two takes side by side, playing together.
  await panel.locator('.task .pick').nth(0).click();
  await panel.locator('.task .pick').nth(1).click();
  await panel.locator('#compare-open').click();
  await until('both takes loaded', async () => (await panel.locator('#compare video').evaluateAll((vs) => vs.length === 2 && vs.every((v) => v.readyState >= 2))), 30_000);
  await panel.locator('#compare-play').click();
  await sleep(1200);
  await panel.locator('#compare-play').click();
  await demo();
  await still('compare');
  await panel.locator('#compare-back').click();

  // 4. The Tasks view (no "Video ready" toast in the pictures).
  await page.locator('.notification-toast .codicon-notifications-clear').first().click().catch(() => undefined);
  await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click();
  const task = page.locator('.monaco-list-row', { hasText: 'the cat slowly looks up' }).first();
  await until('the task row, Saved', async () => /Saved/.test(await task.innerText()), 30_000);
  await task.hover();
  await sleep(800);
  await demo();
  await still('tasks');

  // 5. Play it in the player.
  await contextAction(task, /^Play$/);
  const player = await frameWhere('the player', async (f) => !(await f.$('#generate')) && !!(await f.$('video')) && (await f.evaluate(() => document.querySelector('video')?.readyState ?? 0)) >= 2);
  await player.evaluate(() => document.querySelector('video')?.play().catch(() => undefined));
  await sleep(1500);
  await demo();
  await still('player');

  // 6. The demo: every step for DEMO_STEP_SECONDS, 960 px wide, a 128-colour palette.
  const require = createRequire(import.meta.url);
  const ffmpeg = require('@ffmpeg-installer/ffmpeg').path;
  const gif = join(OUT, 'demo.gif');
  const r = spawnSync(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-framerate', `1/${DEMO_STEP_SECONDS}`, '-i', join(frames, '%02d.png'),
    '-vf', 'fps=5,scale=960:-1:flags=lanczos,split[a][b];[a]palettegen=max_colors=128:stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=4:diff_mode=rectangle',
    '-loop', '0', gif,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the GIF: ${r.stderr}`);
  console.log(`  ${gif} (${demoFrames} steps)`);

  let total = 0;
  for (const name of ['panel.png', 'compare.png', 'tasks.png', 'player.png', 'demo.gif']) {
    const size = statSync(join(OUT, name)).size;
    total += size;
    console.log(`  ${name.padEnd(18)} ${(size / 1024).toFixed(0).padStart(6)} KB`);
  }
  console.log(`  total              ${(total / 1024).toFixed(0).padStart(6)} KB`);
  code = 0;
} catch (err) {
  console.error(`docs:screenshots: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
  mkdirSync(join(REPO_ROOT, 'test', 'e2e', 'screenshots'), { recursive: true });
  await page?.screenshot({ path: join(REPO_ROOT, 'test', 'e2e', 'screenshots', 'docs-failure.png') }).catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
process.exit(code);
