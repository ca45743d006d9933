// End-to-end, as a new user would, at 1280×720 (issue 15's "Done when"), against an emulator this script runs behind
// the custom endpoint (a paid endpoint as far as the extension knows, so spend counts), with a daily cap of 10 s:
//   the key set from the Tasks view's welcome → three images in the Explorer → Generate Video from Image → one batch
//   of three: three rows told apart by their image, each with its poster frame, and one notification ("3 videos
//   ready"); the studio shows the prompt, Generate and the results without scrolling; two results compared side by
//   side; the Gallery lists the batch and the video `wan-video` made in the same folder (with its record); a 15 s
//   request is refused before any create (the emulator's request log) and Allow This Once sends it; the spend shown
//   is the sum of `usage.duration` of the saved records.
// Screenshots go to test/e2e/screenshots/vscode-<version>/ (ignored by git); their paths are printed. `--docs` (on the
// oldest version, as `npm run docs:screenshots` takes the others) also saves the spend cap's dialog to
// media/docs/spend-cap.png, shown in the README (the docs script runs against the rehearsal, which no cap counts).
//
// On each tested code-server version (one child each); `--code-server=oldest|newest` or WAN_CODE_SERVER_VERSION runs one.
// Prerequisites: `node esbuild.mjs`. Run: node test/e2e/studio.e2e.mjs [--docs]
/* global document, fetch, getComputedStyle -- page.evaluate callbacks run in the browser */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from '../host/code-server.mjs';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, e2eSteps, explorerAction, frameWith, openWorkbench, sampleWorkspace, studioInView, until, watchNotifications } from './workbench.mjs';

const { install, shots: SHOTS } = await e2eCodeServer(import.meta.filename);
const { work, workspace } = sampleWorkspace('wan-e2e-studio-');
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'third.jpg'));
const VIDEOS = join(workspace, 'videos');
const KEY = 'sk-e2e-studio';
const BATCH_PROMPT = 'batch: a gentle zoom';
const CLI_PROMPT = 'made by the CLI';

let server;
let browser;
let page;
let emulator;
/** The window's notifications (watchNotifications). */
let notices;
const { shot: runShot, step, fail, summary } = e2eSteps(() => page, SHOTS, 'failure-studio');
const DOCS = process.argv.includes('--docs') ? join(REPO_ROOT, 'media', 'docs') : undefined;

/** A screenshot of the run; with `--docs`, also the README's picture `docsName`. */
async function shot(name, docsName) {
  await runShot(name);
  if (!docsName || !DOCS) return;
  const file = join(DOCS, `${docsName}.png`);
  const raw = join(work, `${docsName}.png`);
  await page.screenshot({ path: raw });
  // In 256 colours, as docs-screenshots.mjs makes the README's other pictures (a third of the plain screenshot).
  const ffmpeg = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg').path;
  const r = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', raw, '-vf', 'split[a][b];[a]palettegen=max_colors=256:reserve_transparent=0[p];[b][p]paletteuse=dither=none', '-frames:v', '1', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg: ${r.stderr}`);
  console.log(`  README picture: ${file} (${Math.round(statSync(file).size / 1024)} KB)`);
}

/** Runs a bundled Node program of this repository; resolves with its exit code and output. */
function runNode(script, args, env = {}) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', script), ...args], { cwd: workspace, env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let out = '';
  child.stdout.on('data', (c) => ((stdout += c), (out += c)));
  child.stderr.on('data', (c) => (out += c));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, out }))) };
}

/** Opens a view container from the activity bar (its item, not its link: a badge of running tasks lies over the link). */
function sideBar(name) {
  return page.locator(`.activitybar .action-item:has(> a[aria-label^="${name}"])`).click();
}

async function creates() {
  const res = await fetch(`${emulator.url}/__emulator/requests`);
  return (await res.json()).requests.filter((r) => r.route === 'create').length;
}

/** The records beside the saved videos, by file name. */
function records() {
  return readdirSync(VIDEOS)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(VIDEOS, n), 'utf8')));
}

/** The Tasks view's description, which shows the spend. */
function tasksDescription() {
  return page.locator('.pane-header', { hasText: 'Tasks' }).locator('.description').innerText();
}

try {
  // The emulator stands for the paid service (--as-gateway: the CLI cannot tell it from one); the CLI saves a video into the workspace's videos/ while VS Code starts.
  const port = await freePort();
  emulator = { url: `http://127.0.0.1:${port}`, ...runNode('emulator.js', ['--port', String(port), '--pending-ms', '200', '--running-ms', '600', '--render-timeout-ms', '300000', '--as-gateway', '--quiet']) };
  await until('the emulator', async () => (await fetch(`${emulator.url}/__emulator/requests`)).ok, 30_000);
  const cli = runNode('cli.js', ['generate', '--first-frame', 'first-frame.jpg', '--prompt', CLI_PROMPT, '--duration', '2', '--resolution', '720P', '--out', 'videos', '--base-url', emulator.url, '--poll-interval', '1'], { DASHSCOPE_API_KEY: KEY });
  ({ server, browser, page } = await openWorkbench({
    install,
    workspace,
    viewport: { width: 1280, height: 720 },
    // The paid path, as far as the extension knows: a custom endpoint (this script's emulator) and a daily cap. They
    // are machine-scoped settings: code-server applies them from its Machine settings file only.
    machineSettings: {
      'wanStudio.endpoint': 'custom',
      'wanStudio.customBaseUrl': emulator.url,
      'wanStudio.budget.dailySeconds': 10,
    },
  }));
  notices = await watchNotifications(page);
  const made = await cli.done;
  assert.equal(made.code, 0, made.out);
  const cliVideo = made.stdout.trim();
  const cliTask = /wan-([^/]+)\.mp4$/.exec(cliVideo)[1];

  await step('the key, from the Tasks view\'s welcome', async () => {
    // The workbench may still be laying itself out: retry until the side bar and its welcome are there.
    await until(
      'the Tasks view\'s welcome',
      async () => {
        const welcome = page.locator('.welcome-view-content .monaco-button', { hasText: 'Set API Key' });
        // A click on the open container would close it: only while the welcome is not shown.
        if (!(await welcome.isVisible())) await page.locator('.activitybar .action-item:has(> a[aria-label^="Wan Studio"])').click({ timeout: 5000 });
        await welcome.click({ timeout: 5000 });
        return true;
      },
      // VS Code 1.139 loads the extension late on a loaded machine (over 2 minutes seen).
      300_000,
    );
    await page.locator('.quick-input-widget input').fill(KEY, { timeout: 120_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  });

  let frame;
  await step('three images → Generate Video from Image → three rows told apart, with poster frames, and one notification', async () => {
    await sideBar('Explorer');
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg', 'third.jpg'], 'Generate Video from Image');
    frame = await frameWith(page, '#generate', 'the studio');
    await until('Generate 3 Videos', async () => /3/.test(await frame.locator('#generate').innerText()), 30_000);
    await frame.locator('#prompt textarea').fill(BATCH_PROMPT);
    await frame.locator('#duration input').fill('2');
    await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null, 30_000);
    const cliCreates = await creates();
    await frame.locator('#generate').click();
    await sideBar('Wan Studio');
    const rows = page.locator('.monaco-list-row', { hasText: ` · ${BATCH_PROMPT}` });
    await until('three batch rows', async () => (await rows.count()) === 3, 60_000);
    const labels = await rows.allInnerTexts();
    assert.deepEqual(labels.map((l) => l.split(` · ${BATCH_PROMPT}`)[0].trim()).sort(), ['first-frame.jpg', 'last-frame.jpg', 'third.jpg'], labels.join(' | '));
    // Saved: each row's icon is its own video's poster frame (an image, not a codicon).
    const icons = await until(
      'three saved rows with poster icons',
      async () => {
        if (!(await rows.allInnerTexts()).every((t) => /Saved/.test(t))) return false;
        const urls = await rows.locator('.custom-view-tree-node-item-icon').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundImage));
        return urls.length === 3 && urls.every((b) => /url\(/.test(b)) && urls;
      },
      240_000,
      1000,
    );
    assert.equal(new Set(icons).size, 3, `a poster per row: ${icons.join(' | ')}`);
    // Sent to the endpoint of the settings (this script's emulator), not to a rehearsal of the extension's own.
    assert.equal(await creates(), cliCreates + 3, 'three creates at the custom endpoint');
    // One notification for the batch, none per video: every notification of the window is in the center.
    const messages = await until('the batch notification', async () => {
      const all = await notices.center({ keepOpen: true });
      return all.some((t) => /videos ready/.test(t)) && all;
    }, 60_000);
    await shot('studio-1-batch-saved-with-posters');
    assert.deepEqual(messages.filter((t) => /ready/.test(t)), ['3 videos ready: first-frame.jpg, last-frame.jpg, third.jpg'], `one notification, none per video: ${messages.join(' | ')}`);
    // Nor any other seen on screen since the start (a toast that hid itself, on 1.100).
    assert.deepEqual(notices().filter((t) => /ready/.test(t)), messages.filter((t) => /ready/.test(t)), `every notification seen: ${notices().join(' | ')}`);
    await page.locator('[id="status.notifications"]').click();
    await page.locator('.notifications-center').waitFor({ state: 'hidden', timeout: 5000 });
  });

  await step('at 1280×720 the studio shows the prompt, Generate and the results without scrolling', async () => {
    await until('the results, each with its poster frame drawn', async () => (await frame.locator('.task').count()) === 3 && (await frame.locator('.task[data-poster]').count()) === 3, 150_000);
    const box = await studioInView(frame);
    assert.ok(box.results.left >= box.compose.right - 1, `the results beside the form: ${JSON.stringify(box)}`);
    await shot('studio-2-studio-1280x720');
  });

  await step('two results compared side by side', async () => {
    const cards = frame.locator('.task');
    await cards.nth(0).locator('.pick').click();
    await cards.nth(1).locator('.pick').click();
    await frame.locator('#compare-open').click();
    const takes = frame.locator('#compare video');
    await until('both takes loaded', async () => (await takes.count()) === 2 && (await takes.evaluateAll((vs) => vs.every((v) => v.readyState >= 2))), 30_000);
    const [a, b] = await takes.evaluateAll((vs) => vs.map((v) => v.getBoundingClientRect().toJSON()));
    assert.ok(Math.abs(a.top - b.top) < 2 && a.right <= b.left, `side by side: ${JSON.stringify([a, b])}`);
    // One Play plays both, together.
    await frame.locator('#compare-play').click();
    await until('both takes playing in step', async () => {
      const [x, y] = await takes.evaluateAll((vs) => vs.map((v) => ({ paused: v.paused, t: v.currentTime })));
      return !x.paused && !y.paused && x.t > 0.3 && y.t > 0.3 && Math.abs(x.t - y.t) < 0.5;
    }, 30_000, 100);
    await shot('studio-3-compare');
    await frame.locator('#compare-play').click();
    await until('both paused', async () => (await takes.evaluateAll((vs) => vs.every((v) => v.paused))), 5000);
    await frame.locator('#compare-back').click();
    await until('the grid back', () => frame.locator('#tasks').isVisible(), 5000);
  });

  await step('the Gallery lists the batch and the video the CLI saved in the same folder', async () => {
    // Open the view if it is collapsed (a click on an open one collapses it).
    const header = page.locator('.pane-header', { hasText: 'Gallery' });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const gallery = await frameWith(page, '#grid', 'the Gallery');
    await until('four cards', async () => (await gallery.locator('.card').count()) === 4, 60_000);
    const cli = gallery.locator('.card', { hasText: `wan-${cliTask}.mp4` });
    // Its record beside it gives its prompt.
    assert.match(await cli.innerText(), new RegExp(CLI_PROMPT));
    await until('poster thumbnails', async () => (await gallery.locator('.card img.thumb').evaluateAll((imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length)) === 4, 120_000, 1000);
    await shot('studio-4-gallery');
  });

  // The Tasks view counts the window's tasks (the CLI's video is in the folder, not in its task list); `wan-video
  // list --spend` counts every record in the folder.
  const sumOf = (rs) => rs.reduce((sum, r) => sum + r.usage.duration, 0);
  const usageSum = () => sumOf(records().filter((r) => r.task_id !== cliTask));
  const spendText = (n) => `Spent today ${n} s · this month ${n} s · all time ${n} s`;
  /** Both spend figures against the records: the Tasks view's description and the CLI's `list --spend`. */
  async function spendMatchesRecords() {
    const mine = usageSum();
    let shown;
    await until(`the Tasks view's spend (${mine} s)`, async () => (shown = await tasksDescription()) === spendText(mine), 30_000).catch(async (e) => {
      const headers = await page.evaluate(() => [...document.querySelectorAll('.pane-header')].map((h) => h.innerText.replace(/\s+/g, ' ')));
      throw new Error(`${e.message}; shown: ${JSON.stringify(shown)}; pane headers: ${JSON.stringify(headers)}`);
    });
    const listed = runNode('cli.js', ['list', '--spend', 'videos', '--json', '--base-url', emulator.url], { DASHSCOPE_API_KEY: KEY });
    const { code, stdout, out } = await listed.done;
    assert.equal(code, 0, out);
    const all = sumOf(records());
    assert.deepEqual(JSON.parse(stdout).spend, { today: all, month: all, all, records: records().length }, out);
  }
  await step('the spend shown is the sum of the saved records\' usage', async () => {
    assert.equal(records().length, 4, 'the batch\'s three records and the CLI\'s');
    assert.equal(usageSum(), 3 * 2, 'three 2 s videos');
    await spendMatchesRecords();
  });

  await step('a daily cap of 10 s refuses a 15 s request before any create; Allow This Once sends it', async () => {
    const before = await creates();
    await sideBar('Explorer');
    await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
    // The click showed the image's preview over the studio, whose page is made anew when it comes back.
    frame = await frameWith(page, '#generate', 'the studio again');
    await until('one image', async () => !/\d/.test(await frame.locator('#generate').innerText()), 30_000);
    await frame.locator('#prompt textarea').fill('over the cap');
    await frame.locator('#duration input').fill('15');
    await until('the 15 s verdict', async () => /billed 15 s/.test(await frame.locator('#summary').innerText()), 30_000);
    const dialog = page.locator('.monaco-dialog-box');
    const ask = async () => {
      await frame.locator('#generate').click();
      await dialog.waitFor({ timeout: 30_000 });
      assert.match(await dialog.innerText(), /This video \(15 s\) would pass your spend cap\. Nothing was sent\./);
      const spent = usageSum();
      assert.ok(
        (await dialog.innerText()).includes(`Today: ${spent} s billed or on its way (0 s of it still running or queued) + 15 s asked = ${spent + 15} s, over the daily cap of 10 s`),
        await dialog.innerText(),
      );
      assert.equal(await creates(), before, 'refused before any create');
      // Enter presses the focused default button: Open Settings, never Allow This Once (found in a new-user trial).
      let focused;
      await until('the default button focused', async () => (focused = (await page.evaluate(() => document.activeElement?.textContent ?? '')).trim()) === 'Open Settings', 5000).catch((e) => {
        throw new Error(`${e.message}; focused: ${JSON.stringify(focused)}`);
      });
    };
    await ask();
    await shot('studio-5-cap', 'spend-cap');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    // Cancel sends nothing: checked below, once the allowed one is saved (long after a stray create would have come).
    await ask();
    await dialog.locator('.monaco-button', { hasText: 'Allow This Once' }).click();
    await until('the create', async () => (await creates()) === before + 1, 30_000);
    await sideBar('Wan Studio');
    await until('saved', async () => /Saved/.test(await page.locator('.monaco-list-row', { hasText: 'over the cap' }).innerText()), 180_000, 1000);
    assert.equal(await creates(), before + 1, 'Cancel sent nothing and Allow This Once sent exactly one create');
    await until('its record', async () => records().length === 5, 30_000);
    assert.equal(usageSum(), 3 * 2 + 15);
    await spendMatchesRecords();
    await shot('studio-6-spend');
  });

} catch (err) {
  fail();
  console.error(`e2e: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  emulator?.child.kill();
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
process.exit(summary());
