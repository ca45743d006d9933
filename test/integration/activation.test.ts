// Runs first (files load in name order): the activation shell (dist/extension.js) activates by itself once
// the window has started (onStartupFinished), without any command, and reads the task list: with no
// unfinished task there it loads nothing more (tasks left running by a closed window would be resumed at
// once); it never activates eagerly ('*'), so it does not slow the window's start. The first use loads the rest.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WanStudioApi } from '../../src/extension/activate';
import type { ShellTesting } from '../../src/extension/entry';

suite('Activation', () => {
  test('activates after start-up on its own, loads nothing more without unfinished tasks, and starts the task engine on first use', async function () {
    this.timeout(30_000);
    const ext = vscode.extensions.getExtension<WanStudioApi & { shell: ShellTesting }>('wan-studio.wan-studio');
    assert.ok(ext, 'the extension is installed in this host');
    const events = (ext.packageJSON.activationEvents ?? []) as string[];
    assert.ok(!events.includes('*'), `eager activation events: ${events.join(', ')}`);
    assert.ok(events.includes('onStartupFinished'));
    const deadline = Date.now() + 20_000;
    while (!ext.isActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ext.isActive, true, 'no command ran, yet the extension is active');
    // The shell's read of the (empty) task list has had time to finish.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([ext.exports.shell.loaded(), ext.exports.shell.loadedBy()], [false, undefined], 'nothing beyond the shell is loaded');
    await ext.exports.testing.ready;
    assert.equal(ext.exports.shell.loadedBy(), 'api');
    assert.match(ext.exports.testing.windowId(), /^[0-9a-f-]{36}$/);
  });
});
