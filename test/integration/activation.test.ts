// Runs first (files load in name order): the activation shell (dist/extension.js) activates by itself once
// the window has started (onStartupFinished), without any command, and reads the task list: with no
// unfinished task there it loads nothing more (tasks left running by a closed window would be resumed at
// once); it never activates eagerly ('*'), so it does not slow the window's start. The first use loads the rest.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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
    // VS Code's own report of that activation (Developer: Startup Performance), before anything else loads.
    const { mine: stats, others } = await activationStats(ext.id);
    assert.ok(stats, `VS Code's Startup Performance has no activation row for ${ext.id}`);
    assert.ok(events.includes(stats.event), `activated by ${stats.event}, not one of the manifest's events`);
    assert.equal(stats.eager, false, 'not activated eagerly');
    // `npm run bench -- host` reads the figures from here (the test holds no time limit of its own), with the
    // other extensions activated in the same window: VS Code's own Load Code for them is the anchor for ours.
    // The host's own marks go with them: its Load Code column times more than the require (see hostMarks).
    if (process.env.WAN_BENCH_ACTIVATION_OUT) {
      writeFileSync(process.env.WAN_BENCH_ACTIVATION_OUT, JSON.stringify({ vscode: vscode.version, ...stats, others, marks: hostMarks() }));
    }
    await ext.exports.testing.ready;
    assert.equal(ext.exports.shell.loadedBy(), 'api');
    assert.match(ext.exports.testing.windowId(), /^[0-9a-f-]{36}$/);
  });
});

interface ActivationStats {
  eager: boolean;
  /** Milliseconds, as the extension host measured them: requiring the main module, the activate call, its promise. */
  loadCodeMs: number;
  activateCallMs: number;
  activateResolvedMs: number;
  event: string;
}

/**
 * The extension's row of "Extension Activation Stats" in VS Code's Startup Performance document
 * (`perf:Startup Performance`, what Developer: Startup Performance shows): the extension host's own
 * activation times. The table is Markdown: Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By.
 */
async function activationStats(id: string): Promise<{ mine: ActivationStats | undefined; others: (ActivationStats & { id: string })[] }> {
  // The document's provider is registered on first use of the command, which also shows it.
  await vscode.commands.executeCommand('perfview.show');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'perf', path: 'Startup Performance' }));
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  const rows = doc
    .getText()
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length >= 8 && /^[\w-]+\.[\w.-]+$/.test(cells[1]!) && /^\d+$/.test(cells[3]!))
    .map((row) => ({ id: row[1]!, eager: row[2] === 'true', loadCodeMs: Number(row[3]), activateCallMs: Number(row[4]), activateResolvedMs: Number(row[5]), event: row[6]! }));
  const mine = rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
  return { mine, others: rows.filter((r) => r !== mine) };
}

/** When the extension host began and ended requiring an extension's main module and calling its activate. */
export interface HostMarks {
  willLoad?: number;
  didLoad?: number;
  willActivate?: number;
  didActivate?: number;
}

/**
 * The extension host's performance marks per extension (`code/extHost/willLoadExtensionCode/<id>` and the
 * like, in ms since the epoch): VS Code marks them right around the `require` of each main module and the
 * `activate` call. They show what the Load Code column does not: that column starts its clock before the
 * host awaits its turn, so for an extension activated by onStartupFinished it also holds the requires of
 * the extensions ahead of it in the same batch. The marks live on VS Code's own global; a host without it
 * gives none (the bench then says so).
 */
function hostMarks(): Record<string, HostMarks> {
  const perf = (globalThis as { MonacoPerformanceMarks?: { getMarks(): { name: string; startTime: number }[] } }).MonacoPerformanceMarks;
  const byId: Record<string, HostMarks> = {};
  const names: Record<string, keyof HostMarks> = {
    willLoadExtensionCode: 'willLoad',
    didLoadExtensionCode: 'didLoad',
    willActivateExtension: 'willActivate',
    didActivateExtension: 'didActivate',
  };
  for (const { name, startTime } of perf?.getMarks() ?? []) {
    const m = /^code\/extHost\/(\w+)\/(.+)$/.exec(name);
    const key = m && names[m[1]!];
    if (key) (byId[m[2]!.toLowerCase()] ??= {})[key] = startTime;
  }
  return byId;
}
