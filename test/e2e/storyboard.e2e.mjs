// End-to-end, as a new user would (issue 16's Done-when), through the UI only: three images right-clicked →
// Make a Storyboard → the storyboard editor with shots 1 → 2 and 2 → 3; Add Shot makes a continuation of shot 2;
// prompts and 2 s durations typed field after field (each sent as its field is left); a soundtrack picked in the
// open dialog; the plan shows 3 shots and the billed total → Generate → all three made with 3 creates (the
// emulator's log) → Assemble → one MP4 as long as the plan's film, with sound, playing in the player; then shot
// 3's prompt is edited → only shot 3 is outdated → Generate sends exactly 1 create → Assemble again, the film now
// made of the new shot 3. Last, shot 2's prompt, negative prompt, seconds and seed are typed one after another at
// keyboard speed, each field's change redrawing the board while the next is typed: every character stays, with
// the focus and the caret, and all of it is sent and saved.
// The editor's pictures (before Generate; after, with shot 3 outdated) go to the run's screenshots folder; with
// `--docs` (on the oldest version, as `npm run docs:screenshots` takes the others) also to media/docs/, the
// README's. VS Code's settings are its defaults (no list open mode or the like): the user's path. The extension's
// emulator keeps its default pace; the script moves its clock on once per new create, so a shot ends as soon as its
// video is rendered (no real seconds waited for emulated ones).
//
// Prerequisites: `node esbuild.mjs`. Run: WAN_CODE_SERVER_VERSION=oldest node test/e2e/storyboard.e2e.mjs [--docs]
/* global fetch, document, HTMLVideoElement -- Node 20's fetch; the others in the page's evaluate callbacks */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, e2eSteps, explorerAction, explorerRow, frameWith as frameIn, openWorkbench, sampleWorkspace, until } from './workbench.mjs';

const { install, shots: SHOTS } = await e2eCodeServer(import.meta.filename);
const DOCS = process.argv.includes('--docs') ? join(REPO_ROOT, 'media', 'docs') : undefined;
const ffmpeg = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg').path;

const { work, workspace } = sampleWorkspace('wan-e2e-storyboard-');
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'one.jpg'));
copyFileSync(join(workspace, 'last-frame.jpg'), join(workspace, 'two.jpg'));
copyFileSync(join(workspace, 'first-frame.jpg'), join(workspace, 'three.jpg'));
// The soundtrack: 10 s of a tone, made with the project's ffmpeg.
const tone = spawnSync(ffmpeg, ['-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10', '-ac', '2', '-ar', '44100', join(workspace, 'music.wav')]);
assert.equal(tone.status, 0, String(tone.stderr));
const BOARD = join(workspace, 'film.wanboard.json');
const FILM = join(workspace, 'film.mp4');

let server;
let browser;
let page;
const t0 = Date.now();
const { shot: runShot, step, fail, summary } = e2eSteps(() => page, SHOTS, 'failure-storyboard');

/** A screenshot of the run; one of the editor also goes to media/docs/ with `--docs`. */
async function shot(name, docs = false) {
  await runShot(name);
  if (!docs || !DOCS) return;
  const file = join(DOCS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  README picture: ${file} (${Math.round(statSync(file).size / 1024)} KB)`);
}

function frameWith(selector, what, timeoutMs) {
  return frameIn(page, selector, what, timeoutMs);
}

/** The extension's own emulator (its state file names its URL). */
function emulatorUrl() {
  return JSON.parse(readFileSync(join(server.userDataDir, 'User', 'globalStorage', 'wan-studio.wan-studio', 'emulator.json'), 'utf8')).url;
}

/** The creates the extension's emulator has answered. */
async function creates() {
  const log = await (await fetch(`${emulatorUrl()}/__emulator/requests`)).json();
  const sent = log.requests.filter((r) => r.route === 'create');
  assert.ok(sent.every((r) => r.status === 200), `every create accepted: ${JSON.stringify(sent.map((r) => r.status))}`);
  return sent.length;
}

let clockMovedFor = 0;
/**
 * The emulator runs its tasks at its default pace (2 s queued, then 6 s running): once for each new create, its clock
 * is moved on past that, so the task ends as soon as its video is rendered instead of after 8 real seconds.
 */
async function endNewTasksNow() {
  const sent = await creates();
  if (sent === clockMovedFor) return;
  const res = await fetch(`${emulatorUrl()}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 10_000 }) });
  assert.equal(res.status, 200, await res.text());
  clockMovedFor = sent;
}

/** What ffprobe would say of a film (no ffprobe here: the project's ffmpeg reads the same container facts). */
function probe(file) {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-i', file], { encoding: 'utf8' });
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { duration: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), audio: /Stream #.*: Audio:/.test(r.stderr), video: /Stream #.*: Video:/.test(r.stderr) };
}

/** The board as saved on disk. */
function saved() {
  return JSON.parse(readFileSync(BOARD, 'utf8'));
}

try {
  ({ server, browser, page } = await openWorkbench({
    install,
    workspace,
    viewport: { width: 1280, height: 900 },
  }));
  let board;
  const card = (i) => board.locator(`.card[data-index="${i}"]`);
  const field = (key) => board.locator(`[data-key="${key}"] input, [data-key="${key}"] textarea`).first();
  /**
   * Types a field and leaves it (the page sends a change as its field is left), then waits until the page, drawn
   * again from the document, shows it: a user sees each value in place before the next field. (Typed faster, at
   * Playwright's pace, a change was now and then missing from the document with no message, on both versions: a
   * redraw replaced the field being typed and its focus was lost. The page now keeps that field through a redraw;
   * the last step types at keyboard speed without waiting.)
   */
  async function type(key, value) {
    const typed = await field(key).elementHandle();
    await field(key).fill(value);
    await field(key).press('Tab');
    await until(`${key} = ${JSON.stringify(value)} in the document`, async () => (await typed.evaluate((e) => !e.isConnected)) && (await field(key).inputValue()) === value, 30_000, 100).catch(async (e) => {
      const said = await board.evaluate(() => globalThis.__said).catch(() => '?');
      throw new Error(`${e.message}; the field shows ${JSON.stringify(await field(key).inputValue().catch(() => '?'))}; the page's messages: ${JSON.stringify(said)}`);
    });
  }
  const total = () => board.locator('#plan-total').innerText();
  /** The film's seconds the plan announces ("… The film is 6 s.", "… joins them into a 6 s film."). */
  async function planFilmSeconds() {
    const m = /(?:The film is|into an?) (\d+(?:\.\d+)?) s/.exec(await total());
    assert.ok(m, await total());
    return Number(m[1]);
  }
  /** The player's video element showing film.mp4, once it has a picture. */
  async function filmInPlayer() {
    for (const f of page.frames()) {
      const v = await f.$('#video').catch(() => null);
      if (v && (await v.evaluate((e) => e.readyState >= 2 && e.videoWidth > 0 && /film\.mp4/.test(e.dataset.media ?? "")).catch(() => false))) return v;
    }
    return undefined;
  }
  /** The film on disk once its record lists every shot (optionally: shot 3 made by another task than `was`). */
  async function assembled(was) {
    const record = join(workspace, 'film.json');
    await until('film.mp4 and its record', async () => {
      if (!existsSync(FILM) || !existsSync(record)) return false;
      const r = JSON.parse(readFileSync(record, 'utf8'));
      return r.shots.length === 3 && r.shots.every((s) => s.task_id) && (was === undefined || r.shots[2].task_id !== was);
    }, 180_000, 500);
    return JSON.parse(readFileSync(record, 'utf8'));
  }
  /** ffprobe's facts of the film: as long as the plan said, with a picture and a sound. */
  async function checkFilm(planned) {
    const facts = probe(FILM);
    assert.ok(Math.abs(facts.duration - planned) <= 0.1, `the film is ${facts.duration} s; the plan said ${planned} s`);
    assert.ok(facts.video, 'the film has a video stream');
    assert.ok(facts.audio, 'the film has an audio stream (the soundtrack)');
    return facts.duration;
  }

  await step('three images → Make a Storyboard → the editor with shots 1 → 2 and 2 → 3', async () => {
    // On a loaded machine the workbench takes minutes to list the workspace.
    await explorerRow(page, 'one.jpg').waitFor({ timeout: 240_000 });
    // The extensions registered (this one's menu items, VS Code's image preview): on a loaded machine the
    // extension hosts come minutes after the Explorer, and a click before that opens the image as binary text.
    await until('the extensions registered', async () => {
      await explorerRow(page, 'one.jpg').click({ button: 'right' });
      const there = await page.locator('.context-view .action-label', { hasText: 'Generate Video from Image' }).waitFor({ timeout: 2000 }).then(() => true, () => false);
      await page.keyboard.press('Escape');
      return there;
    }, 240_000, 1000);
    // The images in the film's order: click (it opens one.jpg's preview), Ctrl+click, Ctrl+click, then
    // right-click → Make a Storyboard.
    await explorerAction(page, ['one.jpg', 'two.jpg', 'three.jpg'], 'Make a Storyboard');
    // The name is asked once the extension host has activated the extension (the menu is the manifest's, shown
    // before): on a loaded machine, minutes.
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 300_000 });
    await input.fill('film');
    await input.press('Enter');
    board = await frameWith('#plan', 'the storyboard editor', 150_000);
    // Every message the page shows (a refused edit says why there, and the next request clears it), for a failure's report.
    await board.evaluate(() => {
      /* global MutationObserver -- runs in the page */
      const said = (globalThis.__said = []);
      const box = document.getElementById('message');
      if (box) new MutationObserver(() => box.textContent && said.push(box.textContent)).observe(box, { childList: true, characterData: true, subtree: true });
    });
    await until('two shot cards', async () => (await board.locator('.card').count()) === 2, 90_000);
    assert.match(await card(0).locator('.slot-start .source').innerText(), /one\.jpg/);
    assert.match(await card(0).locator('.slot-end .source').innerText(), /two\.jpg/);
    assert.match(await card(1).locator('.slot-start .source').innerText(), /two\.jpg/);
    assert.match(await card(1).locator('.slot-end .source').innerText(), /three\.jpg/);
    assert.ok(existsSync(BOARD));
  });

  await step('Add Shot continues shot 2; prompts, 2 s shots, a 2 s overlap and a soundtrack → the plan shows 3 shots and the total', async () => {
    // The Explorer is put away (its activity bar icon, clicked again) so the three cards fit side by side.
    await page.locator('.activitybar .action-label[aria-label^="Explorer"]').first().click();
    await until('the side bar put away', async () => page.locator('.part.sidebar').isHidden(), 60_000);
    await board.locator('#add-shot').click();
    await until('three cards', async () => (await board.locator('.card').count()) === 3, 90_000);
    assert.equal(await board.locator('[data-key="shot:2:overlap"]').count(), 1, 'the added shot continues shot 2 (it asks for its overlap)');
    // Field after field: each change is sent as its field is left.
    for (const [i, prompt] of ['the lighthouse at dawn', 'the sun climbs over the sea', 'the camera keeps rising'].entries()) {
      await type(`shot:${i}:prompt`, prompt);
      await type(`shot:${i}:duration`, '2');
    }
    await type('shot:2:overlap', '2');

    // The soundtrack: Pick… opens the open dialog at the board's folder, listing its audio files; music.wav is chosen.
    await board.locator('.soundtrack vscode-button', { hasText: 'Pick' }).click();
    const choice = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'music.wav' });
    await choice.waitFor({ timeout: 120_000 });
    await choice.click();
    await until('the soundtrack on the board', async () => /music\.wav/.test(await board.locator('#soundtrack').innerText()), 90_000);

    // 2 + 2 + (a 2 s overlap + 2 s) = 8 s billed, for a 6 s film.
    await until('the plan of 3 shots, 8 s billed for a 6 s film', async () => /3 shot\(s\), billed 8 s in all\. The film is 6 s\./.test(await total()), 90_000).catch(async (e) => {
      // What the page says and what the document holds (it may still be unsaved), for the failure's report.
      const said = await board.evaluate(() => globalThis.__said).catch(() => '?');
      const fields = await board.evaluate(() => [...document.querySelectorAll('[data-key]')].map((f) => `${f.dataset.key}=${JSON.stringify(f.value)}`).join(' '));
      throw new Error(`${e.message}; the plan: ${await total()}; the page's messages: ${JSON.stringify(said)}; its fields: ${fields}`);
    });
    const rows = await board.locator('#plan-table tbody tr').allInnerTexts();
    assert.equal(rows.length, 3, rows.join('\n'));
    assert.match(rows[2], /shot-3\s+4 s\s+shot-2/, 'shot 3 bills its overlap too and waits for shot 2');
    await board.locator('h1').click();
    await page.keyboard.press('Control+S');
    // Saved (Ctrl+S in the editor): every change is on disk.
    await until('the board saved', async () => {
      const b = saved();
      return b.settings.soundtrack === 'music.wav' && JSON.stringify(b.shots.map((s) => [s.prompt, s.duration, s.start.overlap]))
        === JSON.stringify([['the lighthouse at dawn', 2, undefined], ['the sun climbs over the sea', 2, undefined], ['the camera keeps rising', 2, 2]]);
    }, 90_000);
    await shot('storyboard-editor', true);
  });

  let firstShot3;
  await step('Generate → all three made with 3 creates', async () => {
    const before = await creates();
    await board.locator('#generate').click();
    await until('three made shots', async () => {
      await endNewTasksNow();
      return (await board.locator('.card[data-state="made"]').count()) === 3;
    }, 300_000, 500);
    assert.equal((await creates()) - before, 3, 'three creates in the emulator\'s log');
    await until('a clip on each card', async () => (await board.locator('.card video.clip').count()) === 3, 90_000);
    await until('nothing left to send', async () => /nothing to send/.test(await total()), 90_000);
  });

  await step('Assemble → one MP4 as long as the plan, with sound, playing in the player', async () => {
    const planned = await planFilmSeconds();
    await board.locator('#assemble').click();
    firstShot3 = (await assembled()).shots[2].task_id;
    const seconds = await checkFilm(planned);
    console.log(`  film.mp4: ${seconds} s (the plan: ${planned} s), with sound`);
    const video = await until('film.mp4 in the player', filmInPlayer, 150_000);
    // Played as a user plays it: a click on the picture (the page does not play by itself).
    await video.click();
    const at = await until('the film playing', async () => {
      const t = await video.evaluate((e) => (!e.paused && e.currentTime > 0.2 ? e.currentTime : 0));
      return t || undefined;
    }, 60_000, 200);
    await until('the film still playing on', async () => (await video.evaluate((e) => e.currentTime)) > at, 30_000, 200);
    await shot('storyboard-film-in-player');
  });

  await step('edit shot 3\'s prompt → only shot 3 outdated → Generate sends exactly 1 create → Assemble again', async () => {
    await page.locator('.tab', { hasText: 'film.wanboard.json' }).click();
    board = await frameWith('#plan', 'the storyboard editor again', 120_000);
    await until('the board as made', async () => (await board.locator('.card[data-state="made"]').count()) === 3, 90_000);
    await type('shot:2:prompt', 'the camera keeps rising into the clouds');
    await until('shot 3 outdated', async () => (await card(2).getAttribute('data-state')) === 'outdated', 90_000);
    assert.equal(await card(0).getAttribute('data-state'), 'made');
    assert.equal(await card(1).getAttribute('data-state'), 'made');
    assert.match(await total(), /1 shot\(s\), billed 4 s in all\. The film is 6 s\./);
    // The picture shows the made shots' clips (their first frame), not blank boxes.
    await until('the made clips showing a frame', async () => board.evaluate(() => [...document.querySelectorAll('.card video.clip')].every((v) => v instanceof HTMLVideoElement && v.readyState >= 2)), 90_000);
    await shot('storyboard-outdated', true);
    const was = await creates();
    await board.locator('#generate').click();
    await until('shot 3 made again', async () => {
      await endNewTasksNow();
      return (await card(2).getAttribute('data-state')) === 'made';
    }, 180_000, 500);
    assert.equal(await card(0).getAttribute('data-state'), 'made');
    assert.equal(await card(1).getAttribute('data-state'), 'made');
    assert.equal((await creates()) - was, 1, 'exactly one create');
    const planned = await planFilmSeconds();
    await board.locator('#assemble').click();
    const record = await assembled(firstShot3);
    const seconds = await checkFilm(planned);
    console.log(`  film.mp4 again: ${seconds} s, shot 3 from task ${record.shots[2].task_id}`);
    await until('the new film in the player', filmInPlayer, 150_000);
  });

  await step('shot 2\'s fields typed one after another at keyboard speed while the board is redrawn: nothing typed lost, all sent and saved', async () => {
    await page.locator('.tab', { hasText: 'film.wanboard.json' }).click();
    board = await frameWith('#plan', 'the storyboard editor again', 120_000);
    await until('the board as made', async () => (await board.locator('.card[data-state="made"]').count()) === 3, 90_000);
    // The page's redraws, counted (each one draws a new plan block) to show they landed while a field was typed.
    await board.evaluate(() => {
      globalThis.__redraws = 0;
      new MutationObserver((m) => m.some((r) => [...r.removedNodes].some((n) => n.id === 'plan')) && globalThis.__redraws++).observe(document.getElementById('app'), { childList: true });
    });
    const redraws = () => board.evaluate(() => globalThis.__redraws);
    /** What the focused field holds: its key, its text and its caret. */
    const focused = () => board.evaluate(() => {
      const f = document.activeElement;
      const input = f?.shadowRoot?.activeElement;
      return { key: f?.dataset?.key ?? f?.tagName, value: input?.value, caret: input ? [input.selectionStart, input.selectionEnd] : undefined };
    });
    const prompt = `${saved().shots[1].prompt}, and the gulls follow the boat`;
    const negative = 'blurry, low quality, distorted, text, watermark';
    // As a user types: the prompt's end clicked, text added, Tab to the next field (which sends the field left; the
    // redraw of that change lands while the next one is typed), and so on, never waiting for the page. The duration
    // (2) is replaced: Backspace, then 3.
    await field('shot:1:prompt').click();
    await page.keyboard.press('End');
    const typing = [['shot:1:prompt', ', and the gulls follow the boat', prompt], ['shot:1:negativePrompt', negative, negative], ['shot:1:duration', '3', '3'], ['shot:1:seed', '424242', '424242']];
    let during = 0;
    for (const [key, keys, whole] of typing) {
      const before = await redraws();
      if (key.endsWith('duration')) await page.keyboard.press('Backspace');
      await page.keyboard.type(keys, { delay: 40 });
      const now = await focused();
      const seen = (await redraws()) - before;
      during += seen;
      assert.deepEqual(now, { key, value: whole, caret: [whole.length, whole.length] }, `${key} as typed, focused, the caret at its end (${seen} redraw(s) while it was typed)`);
      await page.keyboard.press('Tab');
    }
    console.log(`  ${during} redraw(s) landed while a field was typed`);
    assert.ok(during > 0, 'a redraw landed while a field was typed (else this step shows nothing)');
    await until('the typed values in the document', async () => (await field('shot:1:negativePrompt').inputValue()) === negative && (await field('shot:1:seed').inputValue()) === '424242' && (await field('shot:1:duration').inputValue()) === '3' && (await field('shot:1:prompt').inputValue()) === prompt, 30_000, 200);
    await board.locator('h1').click();
    await page.keyboard.press('Control+S');
    await until('the typed values saved', async () => {
      const s = saved().shots[1];
      return s.prompt === prompt && s.negativePrompt === negative && s.seed === 424242 && s.duration === 3;
    }, 60_000, 200);
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
