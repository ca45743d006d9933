// npm run docs:screenshots: the README's pictures, taken from the real UI. Drives code-server's workbench
// through Playwright (clicks and keys only, like panel.e2e.mjs) against the embedded emulator with no key:
// two images selected in the Explorer → Generate Video from Image → fill the studio's form → Generate (a batch of two)
// → the results in the studio → hover plays one → the two compared side by side → the Tasks view shows the batch's
// rows by image with their poster frames, and the Gallery lists both → Play opens one in the player. At 1280×720,
// a laptop screen, with VS Code's default settings.
// Writes media/docs/panel.png, compare.png, tasks.png, gallery.png, player.png and demo.gif (the steps as an animated
// GIF), each made small with the project's ffmpeg (a 256-colour palette for the stills), and prints their sizes. The
// extension comes from this repository (run `node esbuild.mjs` first; the npm script does).
/* global document, getComputedStyle -- page.evaluate callbacks run in the browser */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { codeServerVersions, installCodeServer, REPO_ROOT } from '../host/install-code-server.mjs';
import { explorerAction, openWorkbench, sampleWorkspace, until } from './workbench.mjs';

const OUT = join(REPO_ROOT, 'media', 'docs');
const VIEWPORT = { width: 1280, height: 720 };
/** Seconds each step of the demo stays on screen. */
const DEMO_STEP_SECONDS = 1.6;

// The pictures in media/docs/ were taken on the oldest tested version; `--code-server=newest` takes them on the newest.
const [version, ...more] = codeServerVersions('oldest');
if (more.length) throw new Error('docs:screenshots runs on one code-server version');
const install = installCodeServer({ version, chromium: true });

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

const require = createRequire(import.meta.url);
const ffmpeg = require('@ffmpeg-installer/ffmpeg').path;

function runFfmpeg(args) {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
}

/** One of the README's still pictures, at full size in 256 colours (a third of the plain screenshot's bytes). */
async function still(name) {
  const raw = join(frames, `still-${name}.png`);
  await page.screenshot({ path: raw });
  const file = join(OUT, `${name}.png`);
  runFfmpeg(['-i', raw, '-vf', 'split[a][b];[a]palettegen=max_colors=256:reserve_transparent=0[p];[b][p]paletteuse=dither=none', '-frames:v', '1', file]);
  console.log(`  ${file}`);
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
  ({ server, browser, page } = await openWorkbench({
    install,
    workspace,
    viewport: VIEWPORT,
    // No tip over the pictures.
    settings: { 'workbench.tips.enabled': false },
    // Long enough to catch the task running in the demo.
    env: { WAN_EMULATOR_ARGS: '--pending-ms 1500 --running-ms 4000' },
  }));

  // 1. Two images selected in the Explorer, right-click → Generate Video from Image.
  await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg'], 'Generate Video from Image');

  // 2. The studio, prefilled with both (a batch: one task per image); the prompt and a short duration.
  const panel = await frameWhere('the generation page', async (f) => !!(await f.$('#generate')));
  await until('the probe', async () => /JPEG/.test(await panel.locator('#slot-firstFrame .probe').innerText()), 30_000);
  await until('Generate 2 Videos', async () => /2/.test(await panel.locator('#generate').innerText()), 30_000);
  await demo();
  await panel.locator('#prompt textarea').fill('a slow zoom into the spiral, soft morning light');
  await panel.locator('#duration input').fill('3');
  await until('Generate enabled', async () => (await panel.locator('#generate').getAttribute('disabled')) === null, 20_000);
  await demo();

  // 3. Generate (Ctrl+Enter): the two results in the studio, running, then with their poster frames.
  await panel.locator('#prompt textarea').focus();
  await page.keyboard.press('Control+Enter');
  await until('two cards', async () => (await panel.locator('.task').count()) === 2, 20_000);
  await demo();
  await until('both posters', async () => (await panel.locator('.task[data-poster]').count()) === 2, 150_000);
  // No "2 videos ready" toast over the pictures.
  await until('the batch notice', async () => page.locator('.notification-toast', { hasText: 'videos ready' }).isVisible(), 30_000).catch(() => undefined);
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

  // 4. The Wan Studio side bar: the Tasks view (the batch's rows by image, each with its poster frame) over the Gallery.
  await page.locator('.activitybar .action-item:has(> a[aria-label^="Wan Studio"])').click();
  const rows = page.locator('.monaco-list-row', { hasText: 'a slow zoom into the spiral' });
  await until(
    'both rows Saved, with their posters',
    async () => {
      const texts = await rows.allInnerTexts();
      if (texts.length !== 2 || !texts.every((t) => /Saved/.test(t))) return false;
      return (await rows.locator('.custom-view-tree-node-item-icon').evaluateAll((els) => els.every((e) => /url\(/.test(getComputedStyle(e).backgroundImage)))) ;
    },
    60_000,
  );
  const gallery = await frameWhere('the Gallery', async (f) => !!(await f.$('#grid')));
  await until('the Gallery\'s thumbnails', async () => (await gallery.locator('.card img.thumb').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length)) === 2, 60_000);
  await page.mouse.move(640, 400);
  await demo();
  await still('tasks');

  // 5. The Gallery on its own (the Tasks view folded), searched by prompt.
  await page.locator('.pane-header', { hasText: 'Tasks' }).click();
  await gallery.locator('#search input').fill('spiral');
  await until('the search applied', async () => /2 of 2/.test(await gallery.locator('#count').innerText()), 10_000);
  await gallery.locator('.card').first().hover();
  await demo();
  await still('gallery');
  await page.locator('.pane-header', { hasText: 'Tasks' }).click();
  const task = rows.first();

  // 6. Play it in the player.
  await contextAction(task, /^Play$/);
  const player = await frameWhere('the player', async (f) => !(await f.$('#generate')) && !!(await f.$('video')) && (await f.evaluate(() => document.querySelector('video')?.readyState ?? 0)) >= 2);
  await player.evaluate(() => document.querySelector('video')?.play().catch(() => undefined));
  await sleep(1500);
  await demo();
  await still('player');

  // 7. The demo: every step for DEMO_STEP_SECONDS, 960 px wide, a 128-colour palette.
  const gif = join(OUT, 'demo.gif');
  runFfmpeg([
    '-framerate', `1/${DEMO_STEP_SECONDS}`, '-i', join(frames, '%02d.png'),
    '-vf', 'fps=5,scale=960:-1:flags=lanczos,split[a][b];[a]palettegen=max_colors=128:stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=4:diff_mode=rectangle',
    '-loop', '0', gif,
  ]);
  console.log(`  ${gif} (${demoFrames} steps)`);

  let total = 0;
  for (const name of ['panel.png', 'compare.png', 'tasks.png', 'gallery.png', 'player.png', 'demo.gif']) {
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
