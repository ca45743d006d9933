// Phase 2 of the reload scenario, in the reloaded window (see beforeReload/).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reloadRequestPath } from '../index';
import { checkBoardResumed, checkResumed, type Handoff } from '../reload';
import * as vscode from 'vscode';
import type { WanStudioApi } from '../../../src/extension/activate';
import type { ShellTesting } from '../../../src/extension/entry';
import { EXTENSION_ID, extensionApi } from '../support';

suite('Window reload: after', () => {
  test('the reloaded window resumes the three tasks: polls them, saves the videos and records, creates nothing; a storyboard cut short is offered to resume', async function () {
    this.timeout(180_000);
    const request = reloadRequestPath();
    assert.ok(request, 'this phase runs only after a real reload');
    const handoff = JSON.parse(readFileSync(request, 'utf8')) as Handoff;
    // The activation shell finds the unfinished tasks in the list and loads the rest by itself, no command or view needed.
    const ext = vscode.extensions.getExtension<WanStudioApi & { shell: ShellTesting }>(EXTENSION_ID)!;
    const deadline = Date.now() + 30_000;
    while (!(ext.isActive && ext.exports.shell.loaded()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ext.isActive && ext.exports.shell.loadedBy(), 'unfinished tasks');
    const api = await extensionApi();
    await checkResumed(api, handoff);
    if (handoff.board) await checkBoardResumed(api, handoff);
  });
});
