// Runs first (files load in name order): the extension activates by itself once the window has started
// (onStartupFinished), without any command, so tasks left running by a closed window are resumed; it
// never activates eagerly ('*'), so it does not slow the window's start.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WanStudioApi } from '../../src/extension/activate';

suite('Activation', () => {
  test('activates after start-up on its own and starts the task engine', async function () {
    this.timeout(30_000);
    const ext = vscode.extensions.getExtension<WanStudioApi>('wan-studio.wan-studio');
    assert.ok(ext, 'the extension is installed in this host');
    const events = (ext.packageJSON.activationEvents ?? []) as string[];
    assert.ok(!events.includes('*'), `eager activation events: ${events.join(', ')}`);
    assert.ok(events.includes('onStartupFinished'));
    const deadline = Date.now() + 20_000;
    while (!ext.isActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ext.isActive, true, 'no command ran, yet the extension is active');
    await ext.exports.testing.ready;
    assert.match(ext.exports.testing.windowId(), /^[0-9a-f-]{36}$/);
  });
});
