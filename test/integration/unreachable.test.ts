// An endpoint nothing answers at, and a key set while a rehearsal runs: no request is lost, the user is
// told once (with the URL) and given the ways on, and a request never sent follows the endpoint configured now.
import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as vscode from 'vscode';
import type { ConnectionCheck } from '../../src/extension/commands/connection';
import type { WanStudioTesting } from '../../src/extension/activate';
import type { TaskRecord } from '../../src/tasks/record';
import { config, extensionApi, isSaved, record, sampleInput, useEndpoint, waitFor } from './support';

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function row(api: WanStudioTesting, id: string): vscode.TreeItem {
  const node = api.treeChildren().find((n) => n.id === `task/${id}`);
  assert.ok(node, `task ${id} is in the tree`);
  return api.resolveTreeItem(node);
}

suite('Endpoints: unreachable, and a key set mid-task', () => {
  let api: WanStudioTesting;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await extensionApi();
    sampleInput('first-frame.jpg', 'dog.jpg');
  });
  suiteTeardown(async function () {
    this.timeout(30_000);
    await useEndpoint(undefined);
    await vscode.commands.executeCommand('wanStudio.clearFinished');
  });

  test('an unreachable endpoint is announced once with its URL, the row says so, and the request goes to the emulator once switched', async function () {
    this.timeout(240_000);
    const dead = await closedPortUrl();
    await useEndpoint(dead);
    const check = await vscode.commands.executeCommand<ConnectionCheck>('wanStudio.testConnection');
    assert.equal(check.ok, false);
    assert.ok(!check.ok && check.message.includes(dead), `Test Connection names the URL: ${check.ok ? '' : check.message}`);
    // Its error offers the way to the (machine-scoped, so hard to find in code-server) endpoint settings.
    assert.deepEqual(!check.ok && check.next, ['retry', 'openSettings']);
    assert.ok(!check.ok && !/Poll task/.test(check.message), `not the made-up task it looked up: ${check.ok ? '' : check.message}`);

    const before = api.notifications().length;
    const r = await vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', { firstFrame: 'inputs/dog.jpg', prompt: 'nothing answers', duration: 2, resolution: '720P' });
    const waiting = await waitFor(api, 'the request to wait for the endpoint', () => {
      const now = record(api, r.id);
      return now.state === 'queued' && now.code === 'ECONNREFUSED' && now;
    });
    assert.ok(waiting.message?.includes(dead), `the record names the URL: ${waiting.message}`);
    const it = row(api, r.id);
    assert.match(String(it.description), /^Queued: endpoint unreachable \(ECONNREFUSED\)/);
    const tooltip = (it.tooltip as vscode.MarkdownString).value;
    assert.doesNotMatch(tooltip, /Service says/);
    assert.match(tooltip, /Problem/);
    // A second attempt fails too (after the backoff), still with one notification.
    const firstTry = waiting.notBefore;
    await waitFor(api, 'a second attempt', () => record(api, r.id).notBefore !== firstTry && record(api, r.id).state === 'queued', 60_000);
    const notices = api.notifications().slice(before).filter((n) => n.kind === 'unreachable');
    assert.equal(notices.length, 1, 'one notification per outage');
    assert.ok(notices[0]!.message.includes(dead), notices[0]!.message);
    assert.deepEqual(notices[0]!.actions, ['Open Settings', 'Switch to Emulator', 'Retry', 'Cancel']);

    // Switch to Emulator: the endpoint setting changes, and the never-sent request follows it at once.
    await config().update('endpoint', 'emulator', vscode.ConfigurationTarget.Global);
    const saved = await waitFor(api, 'the save on the emulator', () => {
      const now = record(api, r.id);
      return (isSaved(now) || now.state === 'failed') && now;
    }, 150_000);
    assert.equal(saved.state, 'succeeded', `${saved.code ?? ''} ${saved.message ?? ''}`);
    assert.equal(saved.endpoint.kind, 'emulator');
  });

  test('setting the key while a rehearsal runs keeps its task; the status bar counts it as running', async function () {
    this.timeout(240_000);
    await useEndpoint(undefined); // the built-in emulator, no key
    const r = await vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', { firstFrame: 'inputs/dog.jpg', prompt: 'key set meanwhile', duration: 2, resolution: '720P' });
    await waitFor(api, 'the task on the emulator', () => record(api, r.id).taskId);
    await waitFor(api, 'the status bar to count it running', () => /1 running/.test(api.statusBar() ?? '') && !/queued/.test(api.statusBar() ?? ''), 10_000);
    await vscode.commands.executeCommand('wanStudio.setApiKey', 'sk-set-while-it-runs');
    const done = await waitFor(api, 'the end', () => {
      const now = record(api, r.id);
      return (isSaved(now) || now.state === 'unknown' || now.state === 'failed') && now;
    }, 150_000);
    assert.equal(done.state, 'succeeded', `${done.state}: ${done.message ?? ''}`);
    assert.ok(isSaved(done));
  });
});
