// Tasks against emulators this suite controls (timings, faults, clock), reached through the custom
// endpoint: the local queue within the account's 5 tasks at once, cancel, a failed task, and expiry
// shown and reached through the emulator's clock.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { WanStudioTesting } from '../../src/extension/activate';
import type { TaskTreeNode } from '../../src/extension/tasks/tree';
import { SERVICE_ACTIVE_STATES, type TaskRecord } from '../../src/tasks/record';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { advanceEmulatorClock, config, extensionApi, isSaved, noticesFor, record, sampleInput, useEndpoint, waitFor, workspaceRoot } from './support';

const HOUR = 3600_000;

function item(api: WanStudioTesting, id: string): vscode.TreeItem {
  const node = api.treeChildren().find((n: TaskTreeNode) => n.id === `task/${id}`);
  assert.ok(node, `task ${id} is in the tree`);
  return api.treeItem(node);
}

const icon = (i: vscode.TreeItem) => (i.iconPath as vscode.ThemeIcon).id;

async function generate(n: number, prompt: string): Promise<TaskRecord[]> {
  const made = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', { firstFrame: 'inputs/dog.jpg', prompt: `${prompt} ${i + 1}`, duration: 2, resolution: '720P' }),
    ),
  );
  for (const r of made) assert.ok(r, 'every request was queued');
  return made;
}

suite('Tasks: queue, cancel, failure and expiry', () => {
  let api: WanStudioTesting;
  let fast: RunningEmulator;
  let slow: RunningEmulator;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await extensionApi();
    sampleInput('first-frame.jpg', 'dog.jpg');
    fast = await startEmulator({ pendingMs: 1000, runningMs: 1500 });
    slow = await startEmulator({ pendingMs: 10 * 60_000, runningMs: 1000 });
  });

  suiteTeardown(async function () {
    this.timeout(30_000);
    await config().update('outputFolder', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.clearFinished');
    await useEndpoint(undefined);
    await fast?.close();
    await slow?.close();
  });

  test('six requests at once: five are created, the sixth waits as Queued and is created when a slot frees', async function () {
    this.timeout(150_000);
    await useEndpoint(fast.url);
    fast.clearRequests();
    let ids: string[] = [];
    let maxActive = 0;
    let waiting: string | undefined;
    let badgeThen: number | undefined;
    let createsThen = -1;
    let othersActiveWhenSent = -1;
    const sub = api.onDidChangeTasks(() => {
      const mine = api.tasks().filter((t) => ids.includes(t.id));
      const active = mine.filter((t) => SERVICE_ACTIVE_STATES.has(t.state));
      const queued = mine.filter((t) => t.state === 'queued');
      maxActive = Math.max(maxActive, active.length);
      if (active.length === 5 && queued.length === 1 && !waiting) {
        waiting = queued[0]!.id;
        badgeThen = api.badge();
        createsThen = fast.requests().filter((r) => r.route === 'create').length;
      }
      const last = waiting && mine.find((t) => t.id === waiting);
      if (last && last.state !== 'queued' && othersActiveWhenSent < 0) othersActiveWhenSent = active.filter((t) => t.id !== waiting).length;
    });
    try {
      ids = (await generate(6, 'six at once')).map((r) => r.id);
      await waitFor(api, 'six saved videos', () => ids.every((id) => isSaved(record(api, id))), 140_000);
    } finally {
      sub.dispose();
    }
    assert.equal(maxActive, 5, 'never more than five tasks on the service at once');
    assert.ok(waiting, 'five ran while one waited locally');
    assert.ok(createsThen <= 5, `${createsThen} creates had been sent while one waited`);
    assert.equal(badgeThen, 6, 'the badge counts running and queued tasks');
    assert.ok(othersActiveWhenSent >= 0 && othersActiveWhenSent <= 4, `the sixth was sent while ${othersActiveWhenSent} others were active`);
    assert.equal(fast.requests().filter((r) => r.route === 'create').length, 6, 'exactly six creates');
  });

  test('a locally queued request is canceled without being sent; a PENDING task is canceled by the service', async function () {
    this.timeout(90_000);
    await useEndpoint(slow.url);
    slow.clearRequests();
    const made = await generate(6, 'cancel me');
    const ids = made.map((r) => r.id);
    const [pending, queued] = await waitFor(api, 'five pending and one queued', () => {
      const rs = ids.map((id) => record(api, id));
      const p = rs.filter((r) => r.state === 'pending');
      const q = rs.filter((r) => r.state === 'queued');
      return p.length === 5 && q.length === 1 ? [p, q[0]!] as const : undefined;
    });
    assert.match(item(api, queued.id).contextValue ?? '', /^task:queued:cancelable:/);
    assert.match(item(api, pending[0]!.id).contextValue ?? '', /^task:pending:cancelable:hasTaskId:/);

    const droppedAt = await vscode.commands.executeCommand<TaskRecord>('wanStudio.task.cancel', queued.id);
    assert.equal(droppedAt?.state, 'canceled');
    assert.equal(record(api, queued.id).taskId, undefined, 'it was never created');
    for (const p of pending) {
      const after = await vscode.commands.executeCommand<TaskRecord>('wanStudio.task.cancel', p.id);
      assert.equal(after?.state, 'canceled');
      assert.equal(after?.serviceStatus, 'CANCELED');
    }
    const requests = slow.requests();
    assert.equal(requests.filter((r) => r.route === 'create').length, 5, 'the queued one was never sent');
    assert.equal(requests.filter((r) => r.route === 'cancel' && r.status === 200).length, 5);
    const canceled = item(api, pending[0]!.id);
    assert.equal(icon(canceled), 'circle-slash');
    assert.equal(canceled.contextValue, 'task:canceled:hasTaskId:hasPrompt:repeatable:removable');
    assert.match(String(canceled.description), /^Canceled · just now$/);
    // A task that is not PENDING any more cannot be canceled, and says why.
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.cancel', pending[0]!.id), undefined);
    assert.match(api.notifications().at(-1)?.message ?? '', /only a queued or PENDING task can be canceled/);
    await waitFor(api, 'nothing running', () => api.badge() === undefined, 10_000, true);
  });

  test('a failed task shows the service’s code and message, in the tree and in one notification', async function () {
    this.timeout(60_000);
    await useEndpoint(fast.url);
    fast.faults.add({ route: 'outcome', kind: 'fail', code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.' });
    const [made] = await generate(1, 'will fail');
    const failed = await waitFor(api, 'the failure', () => {
      const r = record(api, made!.id);
      return r.state === 'failed' ? r : undefined;
    });
    assert.equal(failed.code, 'DataInspectionFailed');
    const it = item(api, failed.id);
    assert.equal(icon(it), 'error');
    assert.equal(it.contextValue, 'task:failed:hasTaskId:hasPrompt:repeatable:removable');
    assert.match(String(it.description), /^Failed: DataInspectionFailed · just now$/);
    const notices = await noticesFor(api, failed.id, 'ended');
    assert.equal(api.notifications().filter((n) => n.recordId === failed.id).length, 1);
    assert.equal(notices[0]!.severity, 'error');
    assert.match(notices[0]!.message, /will fail 1.*DataInspectionFailed: Output data may contain inappropriate content\./);
  });

  test('a refused key reads its code once, and a paid task whose checks go unanswered says so on its row', async function () {
    this.timeout(120_000);
    await useEndpoint(fast.url);
    fast.faults.add({ route: 'create', kind: 'status', status: 401, code: 'InvalidApiKey', message: 'Invalid API-key provided.' });
    const [refused] = await generate(1, 'refused key');
    await waitFor(api, 'the refused create', () => record(api, refused!.id).state === 'failed', 60_000, true);
    const [ended] = await noticesFor(api, refused!.id, 'ended');
    assert.match(ended!.message, /InvalidApiKey: Invalid API-key provided\./);
    assert.doesNotMatch(ended!.message, /InvalidApiKey: InvalidApiKey/);
    const hover = api.resolveTreeItem(api.treeChildren().find((n: TaskTreeNode) => n.id === `task/${refused!.id}`)!).tooltip as vscode.MarkdownString;
    assert.doesNotMatch(hover.value, /InvalidApiKey: InvalidApiKey/);

    await useEndpoint(slow.url);
    const [waiting] = await generate(1, 'checks unanswered');
    const pending = await waitFor(api, 'a pending task', () => (record(api, waiting!.id).state === 'pending' ? record(api, waiting!.id) : undefined), 60_000, true);
    // The row follows the record on the tree's next refresh.
    await waitFor(api, 'the row saying Pending', () => /^Pending · /.test(String(item(api, pending.id).description)), 30_000, true);
    slow.faults.add({ route: 'task', kind: 'status', status: 503, code: 'ServiceUnavailable', message: 'busy', times: 1000 });
    try {
      await waitFor(api, 'two unanswered checks', () => record(api, pending.id).pollFailures >= 2, 90_000, true);
      await waitFor(api, 'the row saying the checks go unanswered', () => /^Pending: no answer to the last \d+ checks · /.test(String(item(api, pending.id).description)), 30_000, true);
    } finally {
      slow.faults.clear();
    }
    const canceled = await vscode.commands.executeCommand<TaskRecord>('wanStudio.task.cancel', pending.id);
    assert.equal(canceled?.state, 'canceled');
  });

  test('a create that left no task is announced once looked up: what the list showed, and what Create Again would bill', async function () {
    this.timeout(120_000);
    // An emulator of its own: its clock is moved on, which the other tests' emulators must not see.
    const own = await startEmulator({ pendingMs: 1000, runningMs: 1500 });
    let made: TaskRecord | undefined;
    try {
      await useEndpoint(own.url);
      own.faults.add({ route: 'create', kind: 'drop', phase: 'before' });
      [made] = await generate(1, 'never reached the service');
      await waitFor(api, 'the interrupted create', () => own.requests().some((q) => q.route === 'create') && record(api, made!.id).state === 'creating', 60_000, true);
      // Past the lookup window on the service's clock, which the extension follows.
      await advanceEmulatorClock(own.url, 3 * 60_000);
      const lost = await waitFor(api, 'unresolved', () => (record(api, made!.id).state === 'unresolved' ? record(api, made!.id) : undefined), 90_000, true);
      assert.equal(lost.taskId, undefined);
      const notices = await noticesFor(api, made!.id, 'unresolved');
      assert.equal(notices.length, 1);
      assert.equal(notices[0]!.severity, 'warning');
      assert.match(notices[0]!.message, /"never reached the service 1" may not have been created: .*task list shows .* made between .*Create Again makes a new task, billed 2 s again\./);
      assert.deepEqual(notices[0]!.actions, ['Look Again', 'Create Again', 'Details']);
      assert.equal(own.requests().filter((q) => q.route === 'create' && q.taskId).length, 0, 'nothing made');
    } finally {
      // The user gives it up: an unresolved create would keep a later sync from adopting tasks of its time.
      if (made) await vscode.commands.executeCommand('wanStudio.task.cancel', made.id);
      await useEndpoint(undefined);
      await own.close();
    }
  });

  test('a task made elsewhere (the CLI, another machine) is added by its ID, followed to the end and saved', async function () {
    this.timeout(60_000);
    await useEndpoint(fast.url, 'sk-integration-tasks');
    const image = `data:image/jpeg;base64,${readFileSync(join(workspaceRoot(), 'inputs', 'dog.jpg')).toString('base64')}`;
    const res = await fetch(`${fast.url}/api/v1/services/aigc/video-generation/video-synthesis`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-integration-tasks', 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
      body: JSON.stringify({ model: 'wan2.7-i2v-2026-04-25', input: { prompt: 'made by the CLI', media: [{ type: 'first_frame', url: image }] }, parameters: { resolution: '720P', duration: 2 } }),
    });
    const taskId = ((await res.json()) as { output: { task_id: string } }).output.task_id;
    const added = await vscode.commands.executeCommand<TaskRecord>('wanStudio.addTaskById', taskId);
    assert.ok(added);
    assert.equal(added.taskId, taskId);
    const saved = await waitFor(api, 'the adopted task saved', () => (isSaved(record(api, added.id)) ? record(api, added.id) : undefined));
    assert.equal(saved.request.prompt, 'made by the CLI', 'the prompt comes from the service (orig_prompt, echoed on success)');
    assert.match(saved.save!.file!, /_made-by-the-cli_/);
    // Inputs unknown: it cannot be generated again, but it can be continued.
    assert.equal(item(api, added.id).contextValue, 'task:succeeded:saved:hasTaskId:hasPrompt:removable');
    // Adding it twice does not make a second record; an ID the service does not know is refused.
    assert.equal((await vscode.commands.executeCommand<TaskRecord>('wanStudio.addTaskById', taskId))?.id, added.id);
    assert.equal(await vscode.commands.executeCommand('wanStudio.addTaskById', 'no-such-task-id'), undefined);
    assert.match(api.notifications().at(-1)?.message ?? '', /Task no-such-task-id could not be added: .*does not know task no-such-task-id/);
  });

  test('Sync from Account after Clear Finished lists the videos already saved as saved: no second download, copy or notification', async function () {
    this.timeout(90_000);
    const own = await startEmulator({ pendingMs: 500, runningMs: 800 });
    try {
      await useEndpoint(own.url, 'sk-integration-sync');
      const made = await generate(2, 'synced again');
      const saved = await waitFor(api, 'both saves', () => {
        const rs = made.map((r) => record(api, r.id));
        return rs.every(isSaved) ? rs : undefined;
      });
      await waitFor(api, 'their notifications', () => made.every((r) => api.notifications().some((n) => n.recordId === r.id && n.kind === 'ended')));
      const folder = dirname(saved[0]!.save!.file!);
      const files = () => readdirSync(folder).filter((f) => f.includes('synced-again')).sort();
      const before = files();
      assert.equal(before.length, 4, before.join(', '));
      const downloads = () => own.requests().filter((q) => q.route === 'download').length;
      const fetched = downloads();
      const notices = api.notifications().length;

      await vscode.commands.executeCommand('wanStudio.clearFinished');
      assert.ok(made.every((r) => !api.tasks().some((t) => t.id === r.id)), 'cleared');
      const added = await vscode.commands.executeCommand<TaskRecord[]>('wanStudio.syncFromAccount');
      assert.deepEqual(added.map((r) => r.taskId).sort(), saved.map((r) => r.taskId).sort());
      assert.ok(added.every((r) => r.save?.state === 'saved'), 'listed as saved');
      assert.deepEqual(added.map((r) => r.save?.file).sort(), saved.map((r) => r.save?.file).sort());
      await new Promise((done) => setTimeout(done, 2000)); // room for a (wrong) second download
      assert.equal(downloads(), fetched, 'nothing downloaded again');
      assert.deepEqual(files(), before, 'no -2 copies');
      const since = api.notifications().slice(notices);
      assert.equal(since.length, 1, JSON.stringify(since));
      assert.match(since[0]!.message, /Added 2 tasks from the account; 2 of them were already saved and are not downloaded again/);
    } finally {
      await useEndpoint(undefined);
      await own.close();
    }
  });

  test('expiry: time left counts down on the service’s clock, a warning with Retry comes an hour before, and an unsaved result expires', async function () {
    this.timeout(120_000);
    await useEndpoint(fast.url);
    // A file where the output folder should be: the saves fail until the user fixes it.
    const blocked = join(workspaceRoot(), 'not-a-folder');
    rmSync(blocked, { recursive: true, force: true });
    writeFileSync(blocked, 'a file, not a folder');
    await config().update('outputFolder', blocked, vscode.ConfigurationTarget.Global);
    const [a, b] = await generate(2, 'expiring');
    const unsaved = await waitFor(api, 'two failed saves', () => {
      const rs = [record(api, a!.id), record(api, b!.id)];
      return rs.every((r) => r.state === 'succeeded' && r.save?.state === 'failed') ? rs : undefined;
    });
    for (const r of unsaved) {
      const it = item(api, r.id);
      assert.equal(it.contextValue, 'task:succeeded:retryable:hasTaskId:hasPrompt:repeatable:removable');
      assert.equal(icon(it), 'warning');
      assert.match(String(it.description), /^Not saved · just now · 2[34] h \d+ min left$/);
    }
    assert.equal((await noticesFor(api, a!.id, 'ended')).length, 1);
    assert.equal((await noticesFor(api, b!.id, 'ended')).length, 1);

    // 23.5 h later by the service's clock (the extension learns it from the next answer's Date header).
    await advanceEmulatorClock(fast.url, 23.5 * HOUR);
    await vscode.commands.executeCommand('wanStudio.testConnection');
    assert.ok(Math.abs(api.now() - Date.now() - 23.5 * HOUR) < 10_000, 'the extension follows the service’s clock');
    assert.ok(api.tickCountdown() >= 2, 'the countdown refreshed both items');
    for (const r of unsaved) assert.match(String(item(api, r.id).description), /^Not saved · 23 h · [23]\d min left$/);
    await waitFor(api, 'the expiry warnings', () => [a!.id, b!.id].every((id) => api.notifications().some((n) => n.recordId === id && n.kind === 'expiring')), 30_000, true);
    const warning = api.notifications().find((n) => n.recordId === a!.id && n.kind === 'expiring')!;
    assert.equal(warning.severity, 'warning');
    assert.deepEqual(warning.actions, ['Retry Download', 'Details']);
    assert.match(warning.message, /expiring 1.*is not saved yet and its link expires soon \([23]\d min left\)/);

    // The user fixes the folder and retries the first one in time.
    await config().update('outputFolder', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.task.retryDownload', a!.id);
    const saved = await waitFor(api, 'the retried save', () => (isSaved(record(api, a!.id)) ? record(api, a!.id) : undefined));
    assert.ok(existsSync(saved.save!.file!));
    assert.equal(saved.save!.file!.startsWith(join(workspaceRoot(), 'videos')), true);

    // An hour later the other one's link is dead: shown as expired, and a retry cannot bring it back.
    await advanceEmulatorClock(fast.url, HOUR);
    await vscode.commands.executeCommand('wanStudio.testConnection');
    const expired = item(api, b!.id);
    assert.equal(icon(expired), 'history');
    assert.equal(expired.contextValue, 'task:succeeded:expired:hasTaskId:hasPrompt:repeatable:removable');
    assert.match(String(expired.description), /^Expired · 1 d$/);
    await vscode.commands.executeCommand('wanStudio.task.retryDownload', b!.id);
    await waitFor(api, 'the expired save', () => record(api, b!.id).save?.state === 'expired');
    // The retry tried the link (clocks may disagree; its answer decides) and tells its outcome.
    const ends = await waitFor(api, 'the retry’s outcome', () => {
      const found = api.notifications().filter((n) => n.recordId === b!.id && n.kind === 'ended');
      return found.length === 2 ? found : undefined;
    });
    assert.match(ends[1]!.message, /expired before it could be saved/);
    rmSync(blocked, { force: true });
    mkdirSync(join(workspaceRoot(), 'videos'), { recursive: true });
  });
});
