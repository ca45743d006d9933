// Runs first (files load in name order): the extension must stay dormant until one of its commands runs.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

suite('Activation', () => {
  test('is lazy: not active at start-up, active after one of its commands', async () => {
    const ext = vscode.extensions.getExtension('wan-studio.wan-studio');
    assert.ok(ext, 'the extension is installed in this host');
    const events = (ext.packageJSON.activationEvents ?? []) as string[];
    assert.ok(!events.includes('*') && !events.includes('onStartupFinished'), `eager activation events: ${events}`);
    assert.equal(ext.isActive, false, 'nothing should have activated it yet');
    await vscode.commands.executeCommand('wanStudio.showLog');
    assert.equal(ext.isActive, true);
  });
});
