// End-to-end, as a new user would (issue 16's Done-when): three images right-clicked → Make a Storyboard → the
// storyboard editor with shots 1 → 2 and 2 → 3; Add Shot makes a continuation of shot 2; a soundtrack is picked;
// the plan shows 3 shots and the billed total → Generate → all three made with 3 creates (the emulator's log) →
// Assemble → one MP4 as long as the plan's film, playing in the player; then shot 3's prompt is edited → only
// shot 3 is outdated → Generate sends exactly 1 create. Screenshots of the editor go to media/docs/ (the README's).
//
// Prerequisites: `node esbuild.mjs`. Run: WAN_CODE_SERVER_VERSION=oldest node test/e2e/storyboard.e2e.mjs
/* global fetch -- Node 20's */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, e2eSteps, explorerAction, frameWith as frameIn, openWorkbench, sampleWorkspace, until } from './workbench.mjs';

const { install, shots: SHOTS } = await e2eCodeServer(import.meta.filename);
const DOCS = join(REPO_ROOT, 'media', 'docs');
const ffmpeg = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg').path;

const { work, workspace } = sampleWorkspace('wan-e2e-storyboard-');
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'one.jpg'));
copyFileSync(join(workspace, 'last-frame.jpg'), join(workspace, 'two.jpg'));
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'three.jpg'));
// The soundtrack: 10 s of a tone, made with the project's ffmpeg.
const tone = spawnSync(ffmpeg, ['-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10', '-ac', '2', '-ar', '44100', join(workspace, 'music.wav')]);
assert.equal(tone.status, 0, String(tone.stderr));

let server;
let browser;
let page;
const t0 = Date.now();
const { shot: runShot, step, fail, summary } = e2eSteps(() => page, SHOTS, 'failure-storyboard');

/** A screenshot of the run, or with `docs` one of the README's pictures in media/docs/. */
async function shot(name, docs = false) {
  if (!docs) return runShot(name);
  const file = join(DOCS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot: ${file}`);
}

function frameWith(selector, what, timeoutMs) {
  return frameIn(page, selector, what, timeoutMs);
}

/** The creates the extension's own emulator has answered (its state file names its URL). */
async function creates() {
  const state = JSON.parse(readFileSync(join(server.userDataDir, 'User', 'globalStorage', 'wan-studio.wan-studio', 'emulator.json'), 'utf8'));
  const log = await (await fetch(`${state.url}/__emulator/requests`)).json();
  return log.requests.filter((r) => r.method === 'POST' && /video-synthesis/.test(r.path ?? r.url ?? '')).length;
}

function seconds(file) {
  const r = spawnSync(ffmpeg, ['-i', file], { encoding: 'utf8' });
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { duration: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), audio: /Audio:/.test(r.stderr) };
}

try {
  ({ server, browser, page } = await openWorkbench({
    install,
    workspace,
    viewport: { width: 1280, height: 900 },
    settings: { 'workbench.list.openMode': 'doubleClick' },
    env: { WAN_EMULATOR_ARGS: '--pending-ms 300 --running-ms 1200' },
  }));
  let board;
  const card = (i) => board.locator(`.card[data-index="${i}"]`);
  const field = (key) => board.locator(`[data-key="${key}"] input, [data-key="${key}"] textarea`).first();
  async function type(key, value) {
    await field(key).fill(value);
    await field(key).press('Tab'); // the change is sent when the field is left
  }

  await step('three images → Make a Storyboard → the editor with shots 1 → 2 and 2 → 3', async () => {
    // On a loaded machine the workbench takes minutes to list the workspace.
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'one.jpg' }).waitFor({ timeout: 240_000 });
    await explorerAction(page, ['one.jpg', 'two.jpg', 'three.jpg'], 'Make a Storyboard');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 30_000 });
    await input.fill('film');
    await input.press('Enter');
    board = await frameWith('#plan', 'the storyboard editor', 150_000);
    await until('two shot cards', async () => (await board.locator('.card').count()) === 2, 30_000);
    assert.match(await card(0).locator('.slot-start .source').innerText(), /one\.jpg/);
    assert.match(await card(1).locator('.slot-end .source').innerText(), /three\.jpg/);
    assert.ok(existsSync(join(workspace, 'film.wanboard.json')));
  });

  await step('Add Shot continues shot 2; prompts, 2 s shots, a 2 s overlap and a soundtrack → the plan shows 3 shots and the total', async () => {
    await board.locator('#add-shot').click();
    await until('three cards', async () => (await board.locator('.card').count()) === 3, 20_000);
    for (const [i, prompt] of ['the lighthouse at dawn', 'the sun climbs over the sea', 'the camera keeps rising'].entries()) {
      await type(`shot:${i}:prompt`, prompt);
      await type(`shot:${i}:duration`, '2');
    }
    await type('shot:2:overlap', '2');
    await board.locator('.soundtrack vscode-button').first().click();
    const dialog = page.locator('.quick-input-widget input');
    await dialog.waitFor({ timeout: 20_000 });
    await dialog.fill(join(workspace, 'music.wav'));
    await dialog.press('Enter');
    await until('the soundtrack', async () => /music\.wav/.test(await board.locator('#soundtrack').innerText()), 20_000);
    await until('the plan of 3 shots', async () => (await board.locator('#plan-table tbody tr').count()) === 3, 30_000);
    // 2 + 2 + (2 s overlap + 2 s) = 8 s billed for a 6 s film.
    // The edits land one by one: wait for the last of them in the plan.
    await until('the total of 8 s billed for a 6 s film', async () => /3 shot\(s\), billed 8 s in all\. The film is 6 s\./.test(await board.locator('#plan-total').innerText()), 30_000);
    await page.keyboard.press('Control+S');
    await shot('storyboard-editor', true);
  });

  const before = await creates();
  await step('Generate → all three made with 3 creates', async () => {
    await board.locator('#generate').click();
    await until('three made shots', async () => (await board.locator('.card[data-state="made"]').count()) === 3, 300_000, 1000);
    assert.equal((await creates()) - before, 3);
    await until('a clip on each card', async () => (await board.locator('.card video.clip').count()) === 3, 20_000);
  });

  await step('Assemble → one MP4 as long as the plan, with sound, playing in the player', async () => {
    await board.locator('#assemble').click();
    const film = join(workspace, 'film.mp4');
    await until('film.mp4', async () => existsSync(film) && existsSync(join(workspace, 'film.json')), 120_000, 500);
    const facts = seconds(film);
    assert.ok(Math.abs(facts.duration - 6) < 0.3, `the film is ${facts.duration} s`);
    assert.ok(facts.audio, 'the film has sound');
    await until('the film playing in the player', async () => {
      for (const f of page.frames()) {
        const v = await f.$('#video').catch(() => null);
        if (v && (await v.evaluate((e) => e.readyState >= 2 && /film\.mp4/.test(e.currentSrc)).catch(() => false))) return true;
      }
      return false;
    }, 60_000);
    await shot('storyboard-2-film-in-player');
  });

  await step('edit shot 3\'s prompt → only shot 3 outdated → Generate sends exactly 1 create', async () => {
    await page.locator('.tab', { hasText: 'film.wanboard.json' }).click();
    board = await frameWith('#plan', 'the storyboard editor again', 60_000);
    await type('shot:2:prompt', 'the camera keeps rising into the clouds');
    await until('shot 3 outdated', async () => (await card(2).getAttribute('data-state')) === 'outdated', 30_000);
    assert.equal(await card(0).getAttribute('data-state'), 'made');
    assert.equal(await card(1).getAttribute('data-state'), 'made');
    assert.match(await board.locator('#plan-total').innerText(), /1 shot\(s\), billed 4 s/);
    await shot('storyboard-outdated', true);
    const was = await creates();
    await board.locator('#generate').click();
    await until('shot 3 made again', async () => (await card(2).getAttribute('data-state')) === 'made', 120_000, 1000);
    assert.equal((await creates()) - was, 1);
  });
} catch (err) {
  fail();
  console.error(`e2e: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
console.log(`e2e storyboard: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(summary());
