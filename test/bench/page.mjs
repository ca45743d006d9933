// The rehearsal figure's page part (run by `npm run bench -- rehearsal`; it starts code-server, so run the
// bench through the machine's slot wrapper where there is one): in a real VS Code (code-server, the oldest
// tested version unless WAN_CODE_SERVER_VERSION says otherwise) with this extension against its embedded
// emulator, the user's path: right-click an image → Generate Video from Image → a 2 s 720P video → Generate,
// `TASKS` times one after another in the same panel. Per task, milliseconds from the emulator's end of the
// task (the `end_time` of the record saved beside the video) to: the page showing it succeeded (the card's
// state), the video saved (the MP4's last write), the page given the video (the card's <video>), and its first
// frame drawn (the video's `loadeddata`, which the card marks as its poster). An observer inside the webview
// stamps the page's moments with Date.now(): the browser, code-server and the emulator share this machine's
// clock. Prints one JSON line per task; a line {"error": …} when the workbench could not be driven.
// Prerequisites: `node esbuild.mjs` (the bench builds it).
/* global document, window, Event, MutationObserver -- page.evaluate callbacks run in the browser */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { codeServerVersions, installCodeServer } from '../host/install-code-server.mjs';
import { explorerAction, frameWith, openWorkbench, sampleWorkspace, until } from '../e2e/workbench.mjs';

const TASKS = Number(process.argv[2] ?? 4);
const SERVICE_OFFSET_MS = 8 * 3600_000; // the service's times are UTC+8

function serviceTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text ?? '');
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +(m[7] ?? '0').padEnd(3, '0')) - SERVICE_OFFSET_MS;
}

/** Stamps, inside the webview, when each card first shows a state, gets its video and draws its first frame. */
function watchCards() {
  const marks = (window.__wanMarks = {});
  const scan = () => {
    const now = Date.now();
    for (const card of document.querySelectorAll('.task[data-id]')) {
      const m = (marks[card.dataset.id] ??= { created: now });
      if (card.dataset.state === 'succeeded') m.succeeded ??= now;
      if (card.querySelector('video')) m.video ??= now;
      if (card.dataset.poster) m.poster ??= now;
      m.title = card.title;
    }
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-poster', 'title'] });
  scan();
}

const { work, workspace } = sampleWorkspace('wan-bench-page-');
let server;
let browser;
let page;
try {
  const install = installCodeServer({ version: codeServerVersions('oldest')[0], chromium: true });
  // Default settings: the extension's endpoint default is the embedded emulator; nothing else is changed.
  ({ server, browser, page } = await openWorkbench({ install, workspace, viewport: { width: 1280, height: 720 } }));
  // The user's path with the default open mode: the click opens the image in VS Code's preview, then the panel.
  await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image', { opensOnClick: true });
  const frame = await frameWith(page, '#generate', 'the generation page');
  await frame.evaluate(watchCards);
  await frame.locator('#duration input').fill('2');
  await frame.locator('#resolution').evaluate((el) => {
    el.value = '720P';
    el.dispatchEvent(new Event('change'));
  });
  for (let i = 0; i < TASKS; i++) {
    await frame.locator('#prompt textarea').fill(`rehearsal ${i + 1}: the cat looks up`);
    await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null && /billed 2 s/.test(await frame.locator('#summary').innerText()), 30_000);
    const before = await frame.locator('.task').count();
    const pressed = Date.now();
    await frame.locator('#generate').click();
    await until('the new card', async () => (await frame.locator('.task').count()) > before, 30_000);
    const id = await frame.locator('.task').first().getAttribute('data-id');
    const m = await until('its first frame', () => frame.evaluate((k) => (window.__wanMarks[k]?.poster ? window.__wanMarks[k] : undefined), id), 180_000, 50);
    const video = join(workspace, m.title);
    const sidecar = await until('the record beside it', async () => JSON.parse(readFileSync(video.replace(/\.mp4$/i, '.json'), 'utf8')), 20_000, 50);
    const end = serviceTime(sidecar.end_time);
    const savedAt = statSync(video).mtimeMs;
    console.log(
      JSON.stringify({
        vscode: install.vscodeVersion,
        taskMs: end - pressed,
        seenMs: m.succeeded - end,
        savedMs: Math.round(savedAt - end),
        videoMs: m.video - end,
        firstFrameMs: m.poster - end,
      }),
    );
  }
  const saved = readdirSync(join(workspace, 'videos')).filter((f) => f.endsWith('.mp4'));
  if (saved.length !== TASKS) throw new Error(`expected ${TASKS} videos, found ${saved.length}`);
} catch (err) {
  console.log(JSON.stringify({ error: String(err instanceof Error ? err.message : err).split('\n')[0] }));
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
