// Endpoint settings in a real VS Code: user settings choose the endpoint, a workspace cannot.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ConnectionCheck } from '../../src/extension/commands/connection';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';

const GOOD_KEY = 'sk-endpoint-good';

suite('Endpoint settings', () => {
  let emu: RunningEmulator;
  const config = () => vscode.workspace.getConfiguration('wanStudio');

  suiteSetup(async () => {
    emu = await startEmulator({ apiKeys: [GOOD_KEY] });
  });
  suiteTeardown(async () => {
    await config().update('endpoint', undefined, vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    await emu?.close();
  });

  const check = () => vscode.commands.executeCommand<ConnectionCheck>('wanStudio.testConnection');

  test('a custom base URL from user settings is used, and a refused key is reported', async () => {
    await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', `${emu.url}/api/v1/`, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.setApiKey', 'sk-endpoint-wrong');
    const refused = await check();
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.message, /InvalidApiKey/);
    assert.doesNotMatch(refused.ok ? '' : refused.message, /sk-endpoint-wrong/);

    await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
    const accepted = await check();
    // An emulator behind the custom endpoint: the check says it is one, and that it counts as paid there.
    assert.deepEqual(accepted, { ok: true, baseUrl: emu.url, rehearsal: false, emulatorAsPaid: true });
  });

  test('a custom endpoint that does not answer as the emulator (a gateway) is only said to accept the key', async () => {
    const gateway = await startEmulator({ apiKeys: [GOOD_KEY], asGateway: true });
    try {
      await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
      await config().update('customBaseUrl', gateway.url, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
      assert.deepEqual(await check(), { ok: true, baseUrl: gateway.url, rehearsal: false });
    } finally {
      await gateway.close();
    }
  });

  test('a service that keeps failing is asked twice, not six times, and the check says what it answered', async () => {
    await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', emu.url, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
    emu.clearRequests();
    emu.faults.add({ route: 'task', kind: 'status', status: 503, code: 'ModelUnavailable', message: 'Model is unavailable, please try again later.', times: 10 });
    try {
      const result = await check();
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.message, /ModelUnavailable/);
      assert.deepEqual(!result.ok && result.next.includes('retry'), true, 'Retry is offered');
      // The task engine rides such an outage out with six tries; a check the user waits on gives up after two.
      assert.equal(emu.requests().filter((r) => r.route === 'task').length, 2);
    } finally {
      emu.faults.clear();
    }
  });

  test('a throttled check with a long Retry-After says it was throttled, at once, not "no answer" at the deadline', async () => {
    // Failed on the old code: the check slept out the 30 s Retry-After, met its 20 s deadline and said nothing answered.
    await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', emu.url, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
    emu.clearRequests();
    emu.faults.add({ route: 'task', kind: 'status', status: 429, code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.', retryAfterSeconds: 30, times: 10 });
    try {
      const started = Date.now();
      const result = await check();
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.message, /Throttling\.RateQuota/);
      assert.doesNotMatch(result.ok ? '' : result.message, /No answer/);
      assert.equal(emu.requests().filter((r) => r.route === 'task').length, 1, 'a 30 s Retry-After is not waited for');
    } finally {
      emu.faults.clear();
    }
  });

  test('a server that is not DashScope (a plain 404 page) is not taken for an accepted key', async () => {
    const notDashScope = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
    await new Promise<void>((resolve) => notDashScope.listen(0, '127.0.0.1', resolve));
    try {
      const port = (notDashScope.address() as { port: number }).port;
      await config().update('endpoint', 'custom', vscode.ConfigurationTarget.Global);
      await config().update('customBaseUrl', `http://127.0.0.1:${port}`, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
      const result = await check();
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.message, /HTTP404/);
    } finally {
      notDashScope.close();
    }
  });

  test('without a key nothing is sent', async () => {
    await config().update('customBaseUrl', emu.url, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    emu.clearRequests();
    const result = await check();
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /No API key is set/);
    assert.deepEqual(emu.requests(), []);
  });

  test('an invalid custom URL is reported without any request', async () => {
    emu.clearRequests();
    await config().update('customBaseUrl', 'ftp://example.com', vscode.ConfigurationTarget.Global);
    const result = await check();
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /wanStudio\.customBaseUrl.*http or https/);
    assert.deepEqual(emu.requests(), []);
  });

  test('a workspace cannot redirect requests (and the key) to another server', async function () {
    this.timeout(60_000);
    await config().update('endpoint', undefined, vscode.ConfigurationTarget.Global);
    await config().update('customBaseUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('wanStudio.setApiKey', GOOD_KEY);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test host has a workspace folder');
    const dir = join(folder.uri.fsPath, '.vscode');
    mkdirSync(dir, { recursive: true });
    const changed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('editor.tabSize')) {
          sub.dispose();
          resolve();
        }
      });
    });
    // editor.tabSize is a control: it proves VS Code did load this workspace settings file.
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ 'editor.tabSize': 7, 'wanStudio.endpoint': 'custom', 'wanStudio.customBaseUrl': emu.url }),
    );
    try {
      await Promise.race([changed, new Promise((r) => setTimeout(r, 10_000))]);
      assert.equal(vscode.workspace.getConfiguration('editor').get('tabSize'), 7, 'workspace settings were loaded');
      emu.clearRequests();
      const result = await check();
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.equal(result.rehearsal, true, 'the user-level default (the embedded emulator) still applies');
      assert.notEqual(result.baseUrl, emu.url);
      assert.deepEqual(emu.requests(), [], 'the workspace-chosen server received nothing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
