// The "Done when" trials of issues 11 and 12, tried as a new user would: code-server's workbench driven through
// Playwright (Explorer menus, the command palette, the generation panel, notifications), against the
// extension's own rehearsal emulator, whose control plane (GET /__emulator/requests, POST /__emulator/faults,
// POST /__emulator/clock) counts what was sent and injects the faults. Not part of npm test: it prints what it
// measured and screenshots (test/trials/screenshots/, ignored), and exits 1 when an outcome is wrong.
//
// Tasks run 3 minutes on the emulator's clock; scenarios that need not wait move its clock on, the lost create
// waits for real and runs first, in the fresh window. Run (as root for the full disk: it mounts a small tmpfs):
//   node esbuild.mjs && WAN_CODE_SERVER_VERSION=oldest node test/trials/new-user.trial.mjs
// The figures also go to test/trials/results/vscode-<version>.md (ignored).
/* global fetch, Buffer -- Node 20 globals */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchWorkbenchBrowser } from '../host/browser.mjs';
import { REPO_ROOT } from '../host/install-code-server.mjs';
import { e2eCodeServer, explorerAction, sampleWorkspace, until, watchNotifications } from '../e2e/workbench.mjs';

const { install } = await e2eCodeServer(import.meta.filename);
const SHOTS = join(REPO_ROOT, 'test', 'trials', 'screenshots', `vscode-${install.vscodeVersion}`);
mkdirSync(SHOTS, { recursive: true });
const { startCodeServer, workbenchUrl, freePort } = await import('../host/code-server.mjs');
const { work, workspace } = sampleWorkspace('wan-trial-');
const videos = join(workspace, 'videos');
const RUNNING_MS = 180_000;
const RESULTS = join(REPO_ROOT, 'test', 'trials', 'results');

let server;
let browser;
let page;
let emulatorUrl;
const outcomes = [];
let wrong = 0;
/** The notifications seen so far (set once the browser runs). */
let notices = () => [];

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

/** The extension's own emulator, once it has started (on the first Generate): read each time, as a window may start another. */
function emulator() {
  const state = join(storage(), 'emulator.json');
  try {
    if (existsSync(state)) emulatorUrl = JSON.parse(readFileSync(state, 'utf8')).url;
  } catch {
    // being written: the last one read
  }
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
/** The emulator's own log (the extension writes it beside its state): "task <id> created (first_clip)", "… rendered". */
const emulatorLog = () => (existsSync(join(storage(), 'emulator.log')) ? readFileSync(join(storage(), 'emulator.log'), 'utf8') : '');
const createdMedia = (taskId) => emulatorLog().match(new RegExp(`task ${taskId} created \\(([^)]*)\\)`))?.[1] ?? null;
/** Task IDs the emulator made since the request log's entry `fromSeq`. */
const tasksMadeSince = async (fromSeq) => (await requests()).filter((r) => r.route === 'create' && r.taskId && r.seq > fromSeq).map((r) => r.taskId);
/** The record beside a saved video, found by its prompt. */
const sidecarOf = (prompt, dir = videos) => records(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).find((s) => s.prompt === prompt);
const lastSeq = async () => (await requests()).at(-1)?.seq ?? 0;
/**
 * Overwrites the task list with `text` while holding the store's own lock (the file a window creates with O_EXCL
 * beside it), so a write the window has in flight cannot rename its list over the damage a moment later and
 * hide it (in the 11:33 run on 1.100.3 the garbage was never read: no damage seen, nothing to tell).
 */
async function overwriteStore(text) {
  const file = join(storage(), 'tasks.json');
  const lock = `${file}.lock`;
  await until('the task list\'s lock', async () => {
    try {
      writeFileSync(lock, JSON.stringify({ token: 'new-user-trial', pid: process.pid }), { flag: 'wx' });
      return true;
    } catch {
      return false;
    }
  }, 30_000, 20);
  try {
    writeFileSync(file, text);
  } finally {
    rmSync(lock, { force: true });
  }
}

/** How many tasks made since `fromSeq` are not saved with a prompt other than `prompt`. */
async function madeForPrompt(prompt, fromSeq, dir = videos) {
  const other = new Set(records(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).filter((s) => s.prompt !== prompt).map((s) => s.task_id));
  return (await tasksMadeSince(fromSeq)).filter((id) => !other.has(id)).length;
}

/**
 * The messages in this window's notification center now, one per notification (notices.center() of
 * watchNotifications, which adds them to notices() too): VS Code 1.139 shows no toast under
 * --enable-smoke-test-driver, and an info toast hides itself; the center keeps every notification of the window.
 * A reloaded page starts with an empty center; notices() keeps each text once, so a message said again after a
 * reload is told apart only here. [] (and a line in the output) when the center cannot be opened.
 */
const center = () => notices.center().catch((err) => (console.log(`  notification center not read: ${err instanceof Error ? err.message.split('\n')[0] : err}`), []));

/** The notification messages known now (the center read first): what a scenario compares with at its end. */
async function seenNow() {
  await center();
  return new Set(notices());
}

/** The notification messages that came after `before` (a seenNow()), the center read first. */
async function toldSince(before) {
  await center();
  return notices().filter((t) => !before.has(t));
}

/**
 * The notification that says `text`, with its buttons: its toast, or, when no toast is on screen (VS Code 1.139 in
 * the trial showed none while a webview had the focus), its row in the notification center, left open.
 * The center is read every 3 s while waiting (each read opens and closes it).
 */
async function notification(text, timeoutMs) {
  await until(`the notification "${text}"`, async () => (await center(), notices().some((t) => t.includes(text))), timeoutMs, 3000);
  const toast = page.locator('.notification-toast', { hasText: text }).first();
  if (await toast.isVisible().catch(() => false)) return toast;
  await notices.center({ keepOpen: true });
  const row = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  await row.waitFor({ timeout: 30_000 });
  return row;
}

/** The Wan Studio log of the newest window (its extension host's), or '' before it has one. */
function wanLog() {
  const logs = join(server.userDataDir, 'logs');
  if (!existsSync(logs)) return '';
  const found = [];
  for (const session of readdirSync(logs)) {
    for (const host of readdirSync(join(logs, session)).filter((d) => /^exthost\d+$/.test(d))) {
      const file = join(logs, session, host, 'wan-studio.wan-studio', 'Wan Studio.log');
      if (existsSync(file)) found.push({ file, at: statSync(file).birthtimeMs || statSync(file).ctimeMs, n: Number(host.slice(7)) });
    }
  }
  const newest = found.sort((a, b) => a.n - b.n || a.at - b.at).at(-1);
  return newest ? readFileSync(newest.file, 'utf8') : '';
}

/** Runs a command from the palette, asking again until the workbench lists it (it reads the manifest late). */
async function command(title) {
  const input = page.locator('.quick-input-widget input.input');
  await until(`"${title}" in the command palette`, async () => {
    await page.keyboard.press('F1');
    if (!(await input.waitFor({ timeout: 3000 }).then(() => true, () => false))) return false;
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    if (!(await row.waitFor({ timeout: 3000 }).then(() => true, () => false))) {
      await page.keyboard.press('Escape');
      return false;
    }
    await page.keyboard.press('Enter');
    // The palette lists the manifest's commands before the extension host has started; VS Code then says
    // "command … not found" in a dialog: close it and ask again.
    const notFound = page.locator('.monaco-dialog-box', { hasText: 'not found' });
    if (await notFound.waitFor({ timeout: 1500 }).then(() => true, () => false)) {
      await notFound.locator('.monaco-button', { hasText: 'OK' }).click();
      await sleep(3000);
      return false;
    }
    return true;
  }, 180_000);
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

/** WAN_TRIAL_ONLY=<part of a scenario's name>[|<part of another's>…] runs those alone. */
async function scenario(name, fn) {
  if (process.env.WAN_TRIAL_ONLY && !process.env.WAN_TRIAL_ONLY.split('|').some((part) => name.includes(part))) return;
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    report(name, { error: err instanceof Error ? err.message : String(err) }, false);
    await shot(`failure-${name.replace(/\W+/g, '-').slice(0, 60)}`);
    // The next scenario starts from the emulator endpoint and the default output folder, whatever this one left.
    const machine = join(server.userDataDir, 'Machine', 'settings.json');
    if (existsSync(machine)) writeFileSync(machine, '{}');
    await page.keyboard.press('Escape').catch(() => {});
  }
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

try {
  server = await startCodeServer({
    codeServer: install,
    folder: workspace,
    // The workbench's defaults, as a new user has them: a click in the Explorer opens VS Code's own preview of the
    // file (explorerAction selects again after it). Only the start page and the trust prompt are kept away.
    settings: { 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false },
    env: { WAN_EMULATOR_ARGS: `--pending-ms 1000 --running-ms ${RUNNING_MS}` },
  });
  ({ browser, page } = await launchWorkbenchBrowser({ executablePath: install.chromium, viewport: { width: 1400, height: 950 } }));
  // WAN_TRIAL_CONSOLE=1: every frame's console (the webviews' included), timed, for a page that stays blank.
  if (process.env.WAN_TRIAL_CONSOLE) page.on('console', (m) => console.log(`  [console ${new Date().toISOString().slice(11, 23)} ${(m.location()?.url ?? '').replace(/\?.*$/, '').slice(-40)}] ${m.text().slice(0, 300)}`));
  notices = await watchNotifications(page);
  await page.goto(workbenchUrl(server.url, server.port, workspace, { extensionDevelopmentPath: REPO_ROOT }), { waitUntil: 'domcontentloaded', timeout: 300_000 });
  // Under load the first workbench takes minutes: wait for the Explorer before any scenario.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'first-frame.jpg' }).waitFor({ timeout: 300_000 });

  // 12.1: the create's answer lost on a task that runs 170 s: found and saved once, no second create.
  await scenario('12 create answer lost on a 3-minute task', async () => {
    const files = mp4s().length;
    const seen = await seenNow();
    await command('Wan Studio: Test Connection'); // starts the emulator, to arm the fault before the create
    await until('the emulator', async () => emulator(), 90_000);
    const from = await lastSeq();
    await control('faults', { route: 'create', kind: 'drop', phase: 'after' });
    await explorerAction(page, ['last-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial lost answer' });
    const t0 = Date.now();
    // Real time: the lookups while the task runs (no echoed prompt before it succeeds) are what is tried.
    await until('the video saved', async () => mp4s().length > files, 420_000);
    await sleep(5000);
    await shot('12-lost-create');
    const applied = (await control('faults')).applied.filter((f) => f.route === 'create').length;
    const sent = (await requests()).filter((r) => r.route === 'create' && r.seq > from);
    const made = await tasksMadeSince(from);
    const told = (await toldSince(seen)).filter((t) => !/Connected to/.test(t));
    report('12 lost create (3-minute task)', { seconds: Math.round((Date.now() - t0) / 1000), faultApplied: applied, createsSent: sent.length, tasksMade: made.length, saved: mp4s().length - files, files: mp4s().slice(files), told },
      applied === 1 && sent.length === 1 && made.length === 1 && mp4s().length === files + 1 && told.some((t) => /trial lost answer/.test(t)) && !told.some((t) => /Create Again|may not have been created/i.test(t)));
  });


  // 11.1: Morph, then Continue Video from the Explorer: no last frame goes with the continuation.
  await scenario('11 Morph then Continue Video sends no last frame', async () => {
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg'], 'Morph Between Images');
    let frame = await generatorFrame();
    await generate(frame, { prompt: 'trial morph' });
    await advance();
    await until('the morph saved', async () => sidecarOf('trial morph'), 120_000);
    const uploadsBefore = await count('upload');
    await explorerAction(page, ['clip.mp4'], 'Continue Video');
    frame = await generatorFrame();
    await until('the clip', async () => /clip\.mp4/.test(await frame.locator('#slot-firstClip .source').innerText()), 30_000);
    const lastFrameShown = (await frame.locator('#slot-lastFrame .source').innerText().catch(() => '')).trim();
    await generate(frame, { prompt: 'trial continuation', duration: 5 }); // longer than the 3 s clip
    await advance();
    await until('the continuation saved', async () => sidecarOf('trial continuation'), 120_000);
    await sleep(3000); // its notice
    const sidecars = records().map((f) => JSON.parse(readFileSync(join(videos, f), 'utf8')));
    const morph = sidecars.find((s) => s.prompt === 'trial morph');
    const sidecar = sidecars.find((s) => s.prompt === 'trial continuation');
    const uploads = (await count('upload')) - uploadsBefore;
    await shot('11-continue');
    const sent = { morph: createdMedia(morph?.task_id), continuation: createdMedia(sidecar?.task_id) };
    report('11 Morph → Continue Video', { emulatorLogMedia: sent, lastFrameInPanel: lastFrameShown || null, lastFrameInRecord: sidecar?.media?.last_frame ?? null, uploadsForContinuation: uploads, videos: mp4s().length },
      sent.morph === 'first_frame+last_frame' && sent.continuation === 'first_clip' && !sidecar?.media?.last_frame && !lastFrameShown && uploads === 1);
  });

  // 11.2: Clear Finished, then Sync from Account: nothing downloaded again.
  await scenario('11 Clear Finished → Sync from Account', async () => {
    const downloads = await count('download', false);
    const files = mp4s().length;
    const seen = await seenNow();
    await command('Wan Studio: Clear Finished');
    await sleep(1500);
    await command('Wan Studio: Sync from Account');
    await sleep(8000);
    await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click();
    await sleep(1500);
    await shot('11-sync');
    const rows = await page.locator('.monaco-list-row', { hasText: 'trial' }).allInnerTexts();
    report('11 Clear Finished → Sync', { downloads: (await count('download', false)) - downloads, newFiles: mp4s().length - files, rows: rows.length, rowsSaved: rows.filter((r) => /Saved/.test(r)).length, toasts: await toldSince(seen) }, (await count('download', false)) === downloads && mp4s().length === files);
    await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  });

  // 11.3: a key set while a rehearsal task runs: the task is still saved.
  await scenario('11 key set during a rehearsal', async () => {
    const files = mp4s().length;
    const seen = await seenNow();
    const from = await lastSeq();
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
    await sleep(3000);
    await shot('11-key');
    const made = await tasksMadeSince(from);
    const polls = (await requests()).filter((r) => r.route === 'task' && r.path.endsWith(`/${made[0]}`));
    const keys = [...new Set(polls.map((r) => r.keySha256Prefix ?? 'none'))];
    const states = polls.map((r) => r.status);
    report('11 key set while running', { creates: made.length, saved: mp4s().length - files, pollKeys: keys, pollStatuses: [...new Set(states)], told: await toldSince(seen) },
      made.length === 1 && mp4s().length === files + 1 && states.every((s) => s === 200) && (await toldSince(seen)).some((t) => /API key is saved/.test(t)));
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
    const seen = await seenNow();
    await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await frame.locator('#duration input').fill('2');
    await until('Generate enabled', async () => (await frame.locator('#generate').getAttribute('disabled')) === null, 30_000);
    await frame.locator('#generate').click();
    let toast = await notification('Nothing answers', 90_000);
    const buttons = await toast.locator('.monaco-button').allInnerTexts();
    await sleep(45_000); // an endpoint that loops would announce itself again meanwhile (it used to every 20 s)
    await shot('11-dead-endpoint');
    const about = (await toldSince(seen)).filter((t) => t.includes(String(port)));
    // 11.9: Open Settings shows the setting where it is (the Remote tab in code-server), searched for.
    if (!(await toast.isVisible().catch(() => false))) toast = await notification('Nothing answers', 10_000);
    await toast.locator('.monaco-button', { hasText: 'Open Settings' }).click();
    const tab = await until('the Settings editor', async () => (await page.locator('.settings-editor .settings-tabs-widget .action-label.checked').innerText()).trim(), 30_000).catch(() => 'none');
    await sleep(2000);
    const search = (await page.locator('.settings-editor .settings-header .suggest-input-container').innerText().catch(() => '')).trim();
    const settingShown = await page.locator('.settings-editor .setting-item-contents', { hasText: 'Custom Base Url' }).first().isVisible().catch(() => false);
    await shot('11-open-settings');
    await page.keyboard.press('Control+W');
    // Test Connection from the palette: one error that names the URL and what to do.
    const seenBeforeTest = await seenNow();
    await command('Wan Studio: Test Connection');
    const testToast = await notification('Connection check failed', 60_000).catch(() => undefined);
    const testText = (await toldSince(seenBeforeTest)).find((t) => /Connection check failed/.test(t)) ?? null;
    const testButtons = (await testToast?.locator('.monaco-button').allInnerTexts().catch(() => [])) ?? [];
    await page.keyboard.press('Escape');
    await shot('11-test-connection');
    // Back to the emulator: the request that was never sent goes there now.
    const files = mp4s().length;
    const creates = await count('create');
    writeFileSync(machine, '{}');
    await until('the waiting request sent to the emulator', async () => (await count('create')) > creates, 60_000).catch(() => undefined);
    await advance();
    await until('its video saved', async () => mp4s().length > files, 120_000).catch(() => undefined);
    report('11 dead endpoint', { notifications: about.length, text: about[0], buttons, openSettingsTab: tab, settingsSearch: search, customBaseUrlShown: settingShown, testConnection: { text: testText, buttons: testButtons }, afterSwitchBack: { creates: (await count('create')) - creates, saved: mp4s().length - files } },
      about.length === 1 && ['Open Settings', 'Switch to Emulator', 'Retry', 'Cancel'].every((b) => buttons.some((x) => x.includes(b))) && /Remote/i.test(tab) && /customBaseUrl/.test(search) && settingShown &&
        !!testText?.includes(String(port)) && testButtons.some((b) => b.includes('Open Settings')) && mp4s().length === files + 1);
    await command('View: Close All Editors').catch(() => {});
  });

  // 12.2: the task list overwritten with garbage while two tasks run.
  await scenario('12 store overwritten with garbage while two tasks run', async () => {
    const files = mp4s().length;
    const from = await lastSeq();
    const seen = await seenNow();
    await explorerAction(page, ['first-frame.jpg', 'last-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial garbage', n: 2 });
    await sleep(3000);
    await overwriteStore('garbage \u0000 not a task list');
    await sleep(5000);
    await advance();
    await until('both saved', async () => mp4s().length >= files + 2, 150_000);
    await sleep(3000);
    await shot('12-garbage');
    const said = (await toldSince(seen)).filter((t) => /damaged|rebuilt|task list/i.test(t));
    // The creates for this request: every task made since, but those saved for another prompt (a request an earlier
    // scenario left waiting, sent meanwhile); a second create of this one would count.
    const creates = await madeForPrompt('trial garbage', from);
    report('12 garbage store', { creates, saved: mp4s().length - files, told: said }, creates === 2 && records().filter((f) => JSON.parse(readFileSync(join(videos, f), 'utf8')).prompt === 'trial garbage').length === 2 && said.length >= 1);
  });

  // 12.4: the disk fills between the video and its record (a small tmpfs as the output folder).
  await scenario('12 disk full between video and record', async () => {
    const full = join(work, 'full');
    mkdirSync(full, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', full]);
    try {
      const machine = join(server.userDataDir, 'Machine', 'settings.json');
      writeFileSync(machine, JSON.stringify({ 'wanStudio.outputFolder': full }, null, 2));
      const user = join(server.userDataDir, 'User', 'settings.json');
      writeFileSync(user, JSON.stringify({ ...JSON.parse(readFileSync(user, 'utf8')), 'wanStudio.outputFolder': full }, null, 2));
      await sleep(3000);
      const creates = await count('create');
      const downloads = await count('download', false);
      const seen = await seenNow();
      await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
      const frame = await generatorFrame();
      const from = await lastSeq();
      await generate(frame, { prompt: 'trial disk full' });
      // Once the emulator has rendered it (its size known), fill the disk but for exactly the video's pages:
      // the video fits, its record does not.
      const [taskId] = await until('the task made', () => tasksMadeSince(from).then((ids) => (ids.length ? ids : undefined)), 60_000);
      await until('the render', async () => new RegExp(`task ${taskId} rendered`).test(emulatorLog()), 180_000);
      const results = join(storage(), 'emulator-data', 'results');
      const newest = readdirSync(results).map((f) => join(results, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      const size = statSync(newest).size;
      const free = Number(execFileSync('df', ['-B1', '--output=avail', full]).toString().split('\n')[1]);
      writeFileSync(join(full, 'filler'), Buffer.alloc(free - Math.ceil(size / 4096) * 4096));
      const freeLeft = Number(execFileSync('df', ['-B1', '--output=avail', full]).toString().split('\n')[1]);
      await advance();
      await until('the video in place', async () => mp4s(full).length >= 1, 120_000);
      await sleep(8000);
      const recordBeforeSpace = records(full).length;
      rmSync(join(full, 'filler')); // the user frees space
      await until('the record written', async () => records(full).length >= 1, 330_000).catch(() => undefined);
      await shot('12-disk-full');
      report('12 disk full', { videoBytes: size, freeLeftForIt: freeLeft, creates: (await count('create')) - creates, downloads: (await count('download', false)) - downloads, videos: mp4s(full), recordsBeforeSpaceFreed: recordBeforeSpace, recordsAfter: records(full).length, leftovers: leftovers(full), told: await toldSince(seen) },
        recordBeforeSpace === 0 && mp4s(full).length === 1 && records(full).length === 1 && leftovers(full).length === 0 && (await count('create')) - creates === 1 && (await toldSince(seen)).some((t) => /record/i.test(t)));
      writeFileSync(machine, '{}');
      writeFileSync(user, JSON.stringify({ ...JSON.parse(readFileSync(user, 'utf8')), 'wanStudio.outputFolder': undefined }, null, 2));
    } finally {
      execFileSync('umount', ['-l', full]);
    }
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
    // When the new window's extension host started (code-server's log, to the second): the rows cannot come sooner.
    const launched = [...readFileSync(server.logFile, 'utf8').matchAll(/^\[(\d\d):(\d\d):(\d\d)\].*Launched Extension Host Process/gm)].at(-1);
    const at = launched ? new Date(t0).setHours(Number(launched[1]), Number(launched[2]), Number(launched[3]), 0) - t0 : null;
    // The extension's own account (its log): when VS Code activated it, how long its loading and its read took.
    const log = wanLog();
    const stamp = (re) => {
      const m = log.match(re);
      return m ? Date.parse(m[1].replace(' ', 'T')) - t0 : null;
    };
    const ours = {
      activatedMs: stamp(/^(\S+ \S+) \[info\] Wan Studio .* activated/m),
      rowsGivenMs: stamp(/^(\S+ \S+) \[info\] Tasks view: its first/m),
      rowsAfterActivationMs: Number(log.match(/first \d+ rows given (\d+) ms after activation/)?.[1] ?? NaN),
      loadingMs: Number(log.match(/loading the extension took (\d+) ms/)?.[1] ?? NaN),
      taskListReadMs: Number(log.match(/read in (\d+) ms;/)?.[1] ?? NaN),
    };
    report('11 Tasks view after reload', { workbenchMs: workbench, extensionHostLaunchedMs: at, firstRowsMs: rows, afterWorkbenchMs: rows - workbench, afterExtensionHostMs: at === null ? null : rows - at, extension: ours }, rows - workbench < 10_000);
  });

  // 12.6: the global storage read-only (a bind mount remounted read-only): while a task runs, then at start-up.
  // Told once, retried, recovered without a reload; the video saved once.
  // The emulator (the service's stand-in) keeps its results and its log in the same folder: those stay writable
  // (bound again on top, read-write), as the service's own storage is not the user's; the task list does not.
  const service = () => ['emulator-data', 'emulator.log'].map((f) => join(storage(), f)).filter((f) => existsSync(f));
  let kept = [];
  const readOnly = () => {
    execFileSync('mount', ['--bind', storage(), storage()]);
    execFileSync('mount', ['-o', 'remount,bind,ro', storage()]);
    kept = service();
    for (const f of kept) {
      execFileSync('mount', ['--bind', f, f]);
      execFileSync('mount', ['-o', 'remount,bind,rw', f]);
    }
  };
  const writable = () => {
    for (const f of kept.reverse()) execFileSync('umount', [f]);
    kept = [];
    execFileSync('umount', [storage()]);
  };
  await scenario('12 read-only storage while a task runs', async () => {
    const files = mp4s().length;
    const seen = await seenNow();
    const from = await lastSeq();
    await command('View: Close All Editors').catch(() => {});
    await command('View: Show Explorer'); // (a click on its icon would hide it when it is shown already)
    await explorerAction(page, ['first-frame.jpg'], 'Generate Video from Image');
    const frame = await generatorFrame();
    await generate(frame, { prompt: 'trial read-only' });
    await sleep(3000);
    readOnly();
    let savedWhileReadOnly;
    try {
      await advance();
      await sleep(30_000);
      savedWhileReadOnly = mp4s().length - files;
      await shot('12-read-only-running');
    } finally {
      writable();
    }
    const t0 = Date.now();
    await until('the video saved', async () => mp4s().length > files, 180_000).catch(() => undefined);
    const recoveredMs = Date.now() - t0;
    await sleep(3000);
    const said = (await toldSince(seen)).filter((t) => /task list/.test(t));
    report('12 read-only storage (running)', { creates: (await tasksMadeSince(from)).length, savedWhileReadOnly, saved: mp4s().length - files, savedMsAfterWritable: recoveredMs, told: said },
      (await tasksMadeSince(from)).length === 1 && mp4s().length === files + 1 && said.filter((t) => /cannot save/.test(t)).length === 1 && said.some((t) => /can save its task list again/.test(t)));
  });

  await scenario('12 read-only storage at start-up', async () => {
    readOnly();
    let rowsMs;
    let toldMs;
    try {
      const t0 = Date.now();
      await page.reload({ waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ timeout: 150_000 });
      await page.locator('.activitybar .action-item a[aria-label^="Wan Studio"]').click({ timeout: 60_000 }).catch(() => undefined);
      rowsMs = await until('the first task row', async () => (await page.locator('.pane-body .monaco-list-row', { hasText: 'trial' }).count()) > 0 && Date.now() - t0, 300_000).catch(() => null);
      // The reloaded window's own notification center: the running scenario's window said the same words.
      toldMs = await until('the storage notice', async () => (await center()).some((t) => /cannot save/.test(t)) && Date.now() - t0, 120_000, 3000).catch(() => null);
      await sleep(20_000);
      await shot('12-read-only-start');
    } finally {
      writable();
    }
    await until('told it can save again', async () => (await center()).some((t) => /can save its task list again/.test(t)), 120_000, 3000).catch(() => undefined);
    const said = (await center()).filter((t) => /task list/.test(t));
    report('12 read-only storage (start-up)', { firstRowsMs: rowsMs, toldMs, told: said }, rowsMs !== null && said.filter((t) => /cannot save/.test(t)).length === 1 && said.some((t) => /can save its task list again/.test(t)));
  });
} catch (err) {
  wrong++;
  console.error(`trial: ${err instanceof Error ? err.stack : err}`);
  if (server) console.error(server.logTail(30));
} finally {
  const p = page;
  page = undefined;
  if (p) console.log(`notifications seen:\n  ${notices().join('\n  ')}`);
  console.log(`\ntrial outcomes (VS Code ${install.vscodeVersion}):\n${outcomes.join('\n')}`);
  mkdirSync(RESULTS, { recursive: true });
  const md = join(RESULTS, `vscode-${install.vscodeVersion}${process.env.WAN_TRIAL_ONLY ? '-only' : ''}.md`);
  writeFileSync(md, `# Trial, VS Code ${install.vscodeVersion}, ${new Date().toISOString()}\n\n${outcomes.map((o) => `- ${o}`).join('\n')}\n\n## Notifications seen\n\n${notices().map((t) => `- ${t}`).join('\n')}\n`);
  console.log(`results: ${md}`);
  // The windows' logs (the extension's, VS Code's) kept beside the figures: the server's folder goes with it.
  if (server) {
    const logs = join(RESULTS, `logs-vscode-${install.vscodeVersion}`);
    rmSync(logs, { recursive: true, force: true });
    try {
      cpSync(join(server.userDataDir, 'logs'), logs, { recursive: true });
      cpSync(server.logFile, join(logs, 'code-server.log'));
      console.log(`logs: ${logs}`);
    } catch (err) {
      console.log(`logs not kept: ${err}`);
    }
  }
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (!process.env.WAN_KEEP_TMP) rmSync(work, { recursive: true, force: true });
}
process.exit(wrong ? 1 : 0);
