// Errors a person can act on, end to end in the real extension host: a real emulator refuses a wrong key,
// fails a task for content inspection or refuses an overdue account, and the panel's task view says what
// happened with the button for the next step. The key never appears in what the page gets.
import * as assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { GeneratorHandle } from '../../src/extension/panel/manager';
import type { TaskView } from '../../src/protocol/generate';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { makeAudio, makeImage, tempDir } from '../support/fixtures';
import { until } from '../support/waiting';

const GOOD_KEY = 'sk-panel-good-key';
const WRONG_KEY = 'sk-panel-wrong-key';

suite('Generation panel: errors a person can act on', () => {
  let emu: RunningEmulator;
  let dir: string;
  let image: string;
  let audio: string;
  let handle: GeneratorHandle;
  const config = () => vscode.workspace.getConfiguration('wanStudio');

  suiteSetup(async function () {
    this.timeout(60_000);
    // Short task times (the defaults are 2 s PENDING + 6 s RUNNING, seen at the poll schedule's 10 s step): the
    // outcomes these tests wait for come at its 2 or 5 s poll.
    emu = await startEmulator({ apiKeys: [GOOD_KEY], pendingMs: 500, runningMs: 1000 });
    dir = await tempDir('panel-errors');
    [image, audio] = await Promise.all([makeImage(join(dir, 'cat.png'), 480, 640), makeAudio(join(dir, 'voice.wav'), 3)]);
    await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', emu.url, vscode.ConfigurationTarget.Global);
    handle = await vscode.commands.executeCommand<GeneratorHandle>('wanStudio.openGenerator');
  });

  suiteTeardown(async () => {
    await config().update('endpoint', undefined, vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await emu?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Generates a valid 2 s request and waits for its task to end with an error. */
  async function failedTask(): Promise<TaskView> {
    const [started] = await handle.generate({ mode: 'animate', firstFrame: image, prompt: 'a cat', resolution: '720P', duration: 2 });
    assert.ok(started);
    return until('the task to fail', () => handle.tasks().find((t) => t.id === started.id && t.error), 60_000);
  }

  test('a refused key: the task says so and offers Set Key and Open Settings, without the key', async function () {
    this.timeout(70_000);
    await vscode.commands.executeCommand('wanStudio.setApiKey', WRONG_KEY);
    const task = await failedTask();
    assert.equal(task.state, 'failed');
    assert.match(task.error?.message ?? '', /InvalidApiKey/);
    assert.match(task.error?.hint ?? '', /region/);
    assert.deepEqual(task.error?.actions, ['setKey', 'openSettings']);
    assert.doesNotMatch(JSON.stringify(handle.tasks()), new RegExp(WRONG_KEY));
  });

  test('content inspection: the failed task asks for another prompt or media, with Show Log', async function () {
    this.timeout(70_000);
    await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
    emu.faults.add({ route: 'outcome', kind: 'fail', code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.' });
    const task = await failedTask();
    assert.equal(task.state, 'failed');
    assert.match(task.error?.message ?? '', /inappropriate|DataInspectionFailed/);
    assert.match(task.error?.hint ?? '', /prompt/);
    assert.ok(task.error?.actions.includes('showLog'));
  });

  test('an overdue account (Arrearage) says to top it up, with Retry', async function () {
    this.timeout(70_000);
    emu.faults.add({ route: 'create', kind: 'status', status: 400, code: 'Arrearage', message: 'Access denied, please make sure your account is in good standing.' });
    const task = await failedTask();
    assert.match(task.error?.message ?? '', /Arrearage/);
    assert.match(task.error?.hint ?? '', /top it up/i);
    assert.ok(task.error?.actions.includes('retry'));
  });

  test('Retry on a failed task queues the same request again and follows it', async function () {
    this.timeout(90_000);
    const failed = handle.tasks().find((t) => t.error);
    assert.ok(failed);
    const before = handle.tasks().length;
    const reply = await handle.receive({ type: 'request', id: 4242, method: 'action', params: { action: 'retry', taskId: failed.id } });
    assert.ok(reply?.ok, JSON.stringify(reply));
    assert.equal(handle.tasks().length, before + 1);
    const again = handle.tasks().find((t) => !t.error && t.id !== failed.id && t.state !== 'succeeded');
    assert.ok(again);
    await until('the retried task saved', () => handle.tasks().find((t) => t.id === again.id && t.save === 'saved'), 80_000);
  });

  test('from Singapore, a local audio file is flagged before any upload, with a URL suggested', async () => {
    await config().update('endpoint', 'singapore', vscode.ConfigurationTarget.Global);
    try {
      const v = await handle.validate({ mode: 'animate', firstFrame: image, drivingAudio: audio, duration: 5 });
      const warning = v.issues.find((i) => i.field === 'drivingAudio' && i.severity === 'warning');
      assert.ok(warning, JSON.stringify(v.issues));
      assert.match(warning.message, /Beijing/);
      assert.match(warning.message, /URL/);
      assert.deepEqual(warning.actions, ['openSettings']);
      assert.equal(v.canGenerate, true, 'a warning does not block');
      // A URL needs no upload: no warning.
      const url = await handle.validate({ mode: 'animate', firstFrame: image, drivingAudio: 'https://example.com/voice.mp3', duration: 5 });
      assert.equal(url.issues.filter((i) => i.field === 'drivingAudio').length, 0);
    } finally {
      await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    }
  });
});
