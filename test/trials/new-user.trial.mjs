// The "Done when" trials of issues 11 and 12, tried as a new user would: code-server's workbench driven through
// Playwright (Explorer menus, the command palette, the generation panel, notifications), against the
// extension's own rehearsal emulator, whose control plane (GET /__emulator/requests, POST /__emulator/faults,
// POST /__emulator/clock) counts what was sent and injects the faults. Not part of npm test: it prints what it
// measured and screenshots (test/trials/screenshots/, ignored), and exits 1 when an outcome is wrong.
//
// Tasks run 170 s on the emulator's clock; scenarios that need not wait move its clock on, the lost create
// waits for real. Run (as root for the full disk: it mounts a small tmpfs):
//   node esbuild.mjs && WAN_CODE_SERVER_VERSION=oldest node test/trials/new-user.trial.mjs
/* global fetch, Buffer -- Node 20 globals */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, explorerAction, sampleWorkspace, until } from '../e2e/workbench.mjs';

const { install } = await e2eCodeServer(import.meta.filename);
const SHOTS = join(REPO_ROOT, 'test', 'trials', 'screenshots', `vscode-${install.vscodeVersion}`);
mkdirSync(SHOTS, { recursive: true });
const { startCodeServer, workbenchUrl, freePort } = await import('../host/code-server.mjs');
const { work, workspace } = sampleWorkspace('wan-trial-');
const videos = join(workspace, 'videos');
const RUNNING_MS = 170_000;

let server;
let browser;
let page;
let emulatorUrl;
const outcomes = [];
let wrong = 0;
const toasts = new Set();

function report(scenario, facts, ok) {
  if (!ok) wrong++;
  outcomes.push(`${ok ? '✔' : '✘'} ${scenario}: ${JSON.stringify(facts)}`);
  console.log(outcomes[outcomes.length - 1]);
}

async function shot(name) {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => {});
  console.log(`  screenshot: ${file}`);
}

/** The extension's own emulator, once it has started (on the first Generate). */
function emulator() {
  if (emulatorUrl) return emulatorUrl;
  const state = join(storage(), 'emulator.json');
  if (existsSync(state)) emulatorUrl = JSON.parse(readFileSync(state, 'utf8')).url;
  return emulatorUrl;
}
async function control(what, body) {
  if (!emulator()) await until('the emulator', async () => emulator(), 60_000);
  const res = await fetch(`${emulatorUrl}/__emulator/${what}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  return res.json();
}
const requests = async () => (emulator() ? (await control('requests')).requests : []);
const count = async (route, ok = true) => (await requests()).filter((r) => r.route === route && (!ok || r.status === 200)).length;
const advance = (ms = RUNNING_MS) => control('clock', { advanceMs: ms });
const mp4s = (dir = videos) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort() : []);
const records = (dir = videos) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : []);
const leftovers = (dir = videos) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.') || f.endsWith('.tmp')) : []);
const storage = () => join(server.userDataDir, 'User', 'globalStorage', 'wan-studio.wan-studio');

/** Every notification shown, collected as it appears (toasts hide after a while). */
async function watchToasts() {
  for (;;) {
    if (!page) return;
    const texts = await page.locator('.notification-toast .notification-list-item-message').allInnerTexts().catch(() => []);
    for (const t of texts) toasts.add(t.trim());
    await sleep(400);
  }
}
function toastsSince(before) {
  return [...toasts].slice(before);
}

async function command(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

async function generatorFrame() {
  return until('the generation page', async () => {
    for (const f of page.frames()) if (await f.$('#generate').catch(() => null)) return f;
    return undefined;
  }, 150_000);
}

/** Fills the duration (and prompt), presses Generate and waits for `n` more creates at the emulator. */
async function generate(frame, { duration = 2, prompt, n = 1 } = {}) {
  const creates = await count('create', false);
  await frame.locator('#duration input').fill(String(duration));
  if (prompt) await frame.locator('#prompt textarea').fill(prompt);
  await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null && !/Checking/.test(await frame.locator('#summary').innerText()), 30_000);
  await frame.locator('#generate').click();
  await until(`${n} create(s)`, async () => (await count('create', false)) >= creates + n, 60_000);
}

/** WAN_TRIAL_ONLY=<part of a scenario's name> runs that one alone. */
async function scenario(name, fn) {
  if (process.env.WAN_TRIAL_ONLY && !name.includes(process.env.WAN_TRIAL_ONLY)) return;
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    report(name, { error: err instanceof Error ? err.message : String(err) }, false);
    await shot(`failure-${name.replace(/\W+/g, '-').slice(0, 60)}`);
  }
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

try {
  server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'workbench.list.openMode': 'doubleClick' },
    env: { WAN_EMULATOR_ARGS: `--pending-ms 1000 --running-ms ${RUNNING_MS}` },
  });
  ({ browser, page } = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport: { width: 1400, height: 950 } }));
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded' });
  void watchToasts();

  // 11.1: Morph, then Continue Video from the Explorer: no last frame goes with the continuation.
  await scenario('11 Morph then Continue Video sends no last frame', async () => {
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg'], 'Morph Between Images');
    let frame = await generatorFrame();
    await generate(frame, { prompt: 'trial morph' });
    await advance();
    await until('the morph saved', async () => records().length >= 1, 120_000);
    const uploadsBefore = await count('upload');
    await explorerAction(page, ['clip.mp4'], 'Continue Video');
    frame = await generatorFrame();
    await until('the clip', async () => /clip\.mp4/.test(await frame.locator('#slot-firstClip .source').innerText()), 30_000);
    const lastFrameShown = (await frame.locator('#slot-lastFrame .source').innerText().catch(() => '')).trim();
    await generate(frame, { prompt: 'trial continuation', duration: 5 }); // longer than the 3 s clip
    await advance();
    await until('the continuation saved', async () => records().length >= 2, 120_000);
    const sidecar = records().map((f) => JSON.parse(readFileSync(join(videos, f), 'utf8'))).find((s) => s.prompt === 'trial continuation');
    const uploads = (await count('upload')) - uploadsBefore;
    await shot('11-continue');
    report('11 Morph → Continue Video', { lastFrameInPanel: lastFrameShown || null, lastFrameInRecord: sidecar?.media?.last_frame ?? null, uploadsForContinuation: uploads, videos: mp4s().length }, !sidecar?.media?.last_frame && !lastFrameShown && uploads === 1);
  });

  // 11.2: Clear Finished, then Sync from Account: nothing downloaded again.
  await scenario('11 Clear Finished → Sync from Account', async () => {
    const downloads = await count('download', false);
    const files = mp4s().length;
    const seen = toasts.size;
    await command('Wan Studio: Clear Finished');
    await sleep(1500);
    await command('Wan Studio: Sync from Account');
    await sleep(8000);
    await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click();
    await sleep(1500);
    await shot('11-sync');
    const rows = await page.locator('.monaco-list-row', { hasText: 'trial' }).allInnerTexts();
    report('11 Clear Finished → Sync', { downloads: (await count('download', false)) - downloads, newFiles: mp4s().length - files, rows: rows.length, rowsSaved: rows.filter((r) => /Saved/.test(r)).length, toasts: toastsSince(seen) }, (await count('download', false)) === downloads && mp4s().length === files);
    await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  });

  // 11.3: a key set while a rehearsal task runs: the task is still saved.
  await scenario('11 key set during a rehearsal', async () => {
    const files = mp4s().length;
    await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial key change' });
    await command('Wan Studio: Set DashScope API Key');
    const box = page.locator('.quick-input-widget input.input');
    await box.waitFor({ timeout: 10_000 });
    await box.fill('sk-trial-new-user-0000000000');
    await page.keyboard.press('Enter');
    await sleep(3000);
    await advance();
    await until('the task saved', async () => mp4s().length > files, 120_000);
    await shot('11-key');
    const creates = (await requests()).filter((r) => r.route === 'create' && r.status === 200).length;
    report('11 key set while running', { saved: mp4s().length - files, createsSoFar: creates }, mp4s().length === files + 1);
  });

  // 11.6: a dead endpoint: one notification that names the URL and offers what to do.
  await scenario('11 dead endpoint', async () => {
    const port = await freePort();
    const machine = join(server.userDataDir, 'Machine', 'settings.json');
    mkdirSync(join(server.userDataDir, 'Machine'), { recursive: true });
    // A custom endpoint needs a key (the key scenario sets one; set again in case it failed).
    await command('Wan Studio: Set DashScope API Key');
    await page.locator('.quick-input-widget input.input').fill('sk-trial-new-user-0000000000');
    await page.keyboard.press('Enter');
    writeFileSync(machine, JSON.stringify({ 'wanStudio.endpoint': 'custom', 'wanStudio.customBaseUrl': `http://127.0.0.1:${port}` }, null, 2));
    await sleep(3000);
    const seen = toasts.size;
    await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await frame.locator('#duration input').fill('2');
    await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null, 30_000);
    await frame.locator('#generate').click();
    const toast = page.locator('.notification-toast', { hasText: String(port) });
    await toast.first().waitFor({ timeout: 60_000 });
    const buttons = await toast.first().locator('.monaco-button').allInnerTexts();
    await sleep(25_000); // an endpoint that loops would announce itself again meanwhile
    await shot('11-dead-endpoint');
    const about = toastsSince(seen).filter((t) => t.includes(String(port)));
    // 11.9: Open Settings shows the setting where it is (the Remote tab in code-server).
    await toast.first().locator('.monaco-button', { hasText: 'Open Settings' }).click();
    const tab = await until('the Settings editor', async () => (await page.locator('.settings-editor .settings-tabs-widget .action-item.checked').innerText()).trim(), 30_000).catch(() => 'none');
    await sleep(1500);
    const settingShown = await page.locator('.settings-editor .setting-item-contents', { hasText: 'Custom Base Url' }).first().isVisible().catch(() => false);
    await shot('11-open-settings');
    // Back to the emulator: the request that was never sent goes there now.
    const files = mp4s().length;
    const creates = await count('create');
    writeFileSync(machine, '{}');
    await until('the waiting request sent to the emulator', async () => (await count('create')) > creates, 60_000).catch(() => undefined);
    await advance();
    await until('its video saved', async () => mp4s().length > files, 120_000).catch(() => undefined);
    report('11 dead endpoint', { notifications: about.length, text: about[0], buttons, openSettingsTab: tab, customBaseUrlShown: settingShown, afterSwitchBack: { creates: (await count('create')) - creates, saved: mp4s().length - files } },
      about.length === 1 && ['Open Settings', 'Switch to Emulator', 'Retry', 'Cancel'].every((b) => buttons.some((x) => x.includes(b))) && /Remote/i.test(tab) && settingShown && mp4s().length === files + 1);
    await command('View: Close All Editors').catch(() => {});
  });

  // 12.2: the task list overwritten with garbage while two tasks run.
  await scenario('12 store overwritten with garbage while two tasks run', async () => {
    const files = mp4s().length;
    const creates = await count('create');
    const seen = toasts.size;
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial garbage', n: 2 });
    await sleep(3000);
    writeFileSync(join(storage(), 'tasks.json'), 'garbage \u0000 not a task list');
    await sleep(5000);
    await advance();
    await until('both saved', async () => mp4s().length >= files + 2, 150_000);
    await sleep(3000);
    await shot('12-garbage');
    const said = toastsSince(seen).filter((t) => /damaged|rebuilt|task list/i.test(t));
    report('12 garbage store', { creates: (await count('create')) - creates, saved: mp4s().length - files, told: said }, (await count('create')) - creates === 2 && mp4s().length - files === 2 && said.length >= 1);
  });

  // 12.4: the disk fills between the video and its record (a small tmpfs as the output folder).
  await scenario('12 disk full between video and record', async () => {
    const full = join(work, 'full');
    mkdirSync(full, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', full]);
    try {
      // Leave room for the video (as big as an earlier one from the same image) but not for its record.
      const size = Math.max(600_000, ...mp4s().map((f) => statSync(join(videos, f)).size));
      const free = Number(execFileSync('df', ['-B1', '--output=avail', full]).toString().split('\n')[1]);
      writeFileSync(join(full, 'filler'), Buffer.alloc(Math.max(0, free - Math.ceil((size + 4096) / 4096) * 4096 - 4096)));
      const machine = join(server.userDataDir, 'Machine', 'settings.json');
      writeFileSync(machine, JSON.stringify({ 'wanStudio.outputFolder': full }, null, 2));
      const user = join(server.userDataDir, 'User', 'settings.json');
      writeFileSync(user, JSON.stringify({ ...JSON.parse(readFileSync(user, 'utf8')), 'wanStudio.outputFolder': full }, null, 2));
      await sleep(3000);
      const creates = await count('create');
      const downloads = await count('download', false);
      const seen = toasts.size;
      await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
      const frame = await generatorFrame();
      await generate(frame, { prompt: 'trial disk full' });
      await advance();
      await until('the video in place', async () => mp4s(full).length >= 1, 120_000);
      await sleep(8000);
      const recordBeforeSpace = records(full).length;
      rmSync(join(full, 'filler')); // the user frees space
      await until('the record written', async () => records(full).length >= 1, 330_000).catch(() => undefined);
      await shot('12-disk-full');
      report('12 disk full', { creates: (await count('create')) - creates, downloads: (await count('download', false)) - downloads, videos: mp4s(full), recordsBeforeSpaceFreed: recordBeforeSpace, recordsAfter: records(full).length, leftovers: leftovers(full), told: toastsSince(seen) },
        mp4s(full).length === 1 && records(full).length === 1 && leftovers(full).length === 0 && (await count('create')) - creates === 1);
      writeFileSync(machine, '{}');
      writeFileSync(user, JSON.stringify({ ...JSON.parse(readFileSync(user, 'utf8')), 'wanStudio.outputFolder': undefined }, null, 2));
    } finally {
      execFileSync('umount', ['-l', full]);
    }
  });

  // 12.1: the create's answer lost on a task that runs 170 s: found and saved once, no second create.
  await scenario('12 create answer lost on a 170 s task', async () => {
    await sleep(3000);
    const files = mp4s().length;
    const creates = await count('create');
    const seen = toasts.size;
    if (!emulator()) await command('Wan Studio: Test Connection'); // starts the emulator, to arm the fault before the create
    await control('faults', { route: 'create', kind: 'drop', phase: 'after' });
    await explorerAction(page, ['last-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial lost answer' });
    const t0 = Date.now();
    await until('the video saved', async () => mp4s().length > files, 330_000);
    await sleep(3000);
    await shot('12-lost-create');
    const made = (await requests()).filter((r) => r.route === 'create').length;
    report('12 lost create (170 s task)', { seconds: Math.round((Date.now() - t0) / 1000), createsSent: (await count('create', false)) - creates, tasksMade: made, saved: mp4s().length - files, told: toastsSince(seen) }, mp4s().length === files + 1 && (await count('create', false)) - creates === 1);
  });

  // 11.10: the Tasks view after a reload: time to its first rows, with records in the store.
  await scenario('11 Tasks view after a reload', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click();
    await sleep(1000);
    const t0 = Date.now();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 150_000 });
    const workbench = Date.now() - t0;
    await until('the first task row', async () => (await page.locator('.pane-body .monaco-list-row', { hasText: 'trial' }).count()) > 0, 150_000);
    const rows = Date.now() - t0;
    await shot('11-tasks-after-reload');
    report('11 Tasks view after reload', { workbenchMs: workbench, firstRowsMs: rows, afterWorkbenchMs: rows - workbench }, rows - workbench < 10_000);
  });
} catch (err) {
  wrong++;
  console.error(`trial: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  const p = page;
  page = undefined;
  if (p) console.log(`notifications seen:\n  ${[...toasts].join('\n  ')}`);
  console.log(`\ntrial outcomes (VS Code ${install.vscodeVersion}):\n${outcomes.join('\n')}`);
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
process.exit(wrong ? 1 : 0);
