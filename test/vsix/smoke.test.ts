// Smoke test of the INSTALLED extension (from the VSIX, in code-server's extensions folder): it activates,
// Test Connection reaches the emulator it starts from its own files, and one generation runs end to end
// (the emulator renders with the WebAssembly ffmpeg the VSIX carries; the VSIX has no native ffmpeg).
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import * as vscode from 'vscode';
import type { ConnectionCheck } from '../../src/extension/commands/connection';
import type { TaskRecord } from '../../src/tasks/record';
import { EXTENSION_ID, extensionApi, isSaved, waitFor, workspaceRoot } from '../integration/support';

const REPO_ROOT = join(__dirname, '..', '..', '..');

suite('Installed VSIX', () => {
  test('is the copy installed from the VSIX (not the repository), holds only what runs, and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not installed`);
    const installedIn = process.env.WAN_VSIX_EXTENSIONS_DIR;
    assert.ok(installedIn, 'the launcher names the extensions folder it installed into');
    assert.ok(ext.extensionPath.startsWith(installedIn + sep), `${ext.extensionPath} is not under ${installedIn}`);
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
    const top = readdirSync(ext.extensionPath).sort();
    for (const absent of ['src', 'test', 'node_modules', 'webview', 'out']) assert.ok(!top.includes(absent), `the installed extension has ${absent}/`);
    assert.ok(existsSync(join(ext.extensionPath, 'dist', 'ffmpeg-core', 'ffmpeg-core.wasm')));
    assert.ok(!readdirSync(join(ext.extensionPath, 'dist')).some((f) => f.endsWith('.map')), 'no source maps');
    const api = await extensionApi();
    assert.ok(ext.isActive);
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['wanStudio.testConnection', 'wanStudio.generate', 'wanStudio.openGenerator']) assert.ok(commands.includes(id), id);
    assert.ok(api.commandIds().length >= 20);
  });

  test('Test Connection reaches the emulator started from the installed files', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('wanStudio.clearApiKey');
    const result = await vscode.commands.executeCommand<ConnectionCheck>('wanStudio.testConnection');
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.rehearsal, true);
    const state = await (await extensionApi()).emulator();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    if (process.platform === 'linux') {
      const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.includes(join(ext.extensionPath, 'dist', 'emulator.js')), `emulator command line: ${cmdline.join(' ')}`);
    }
    const info = (await (await fetch(`${result.baseUrl}/__emulator/info`)).json()) as { emulator: string; ffmpeg: string };
    assert.equal(info.emulator, 'rehearsal');
    assert.equal(info.ffmpeg, 'wasm', 'the installed emulator renders with the WebAssembly ffmpeg (the VSIX has no native binary)');
  });

  test('one generation end to end: queued → succeeded, the MP4 saved in the workspace', async function () {
    this.timeout(240_000);
    const api = await extensionApi();
    mkdirSync(join(workspaceRoot(), 'inputs'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'media', 'samples', 'first-frame.jpg'), join(workspaceRoot(), 'inputs', 'cat.jpg'));
    const queued = await vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', {
      firstFrame: 'inputs/cat.jpg',
      prompt: 'the cat looks up, VSIX smoke test',
      duration: 2,
      resolution: '720P',
    });
    assert.ok(queued, 'the command returned the task record');
    const saved = await waitFor(api, 'the video to be saved', () => {
      const r = api.tasks().find((t) => t.id === queued.id);
      if (r?.state === 'failed') throw new Error(`the task failed: ${JSON.stringify(r)}`);
      return r && isSaved(r) ? r : undefined;
    }, 220_000, true);
    assert.equal(saved.state, 'succeeded');
    const file = saved.save?.file;
    assert.ok(file, `the record names its saved video: ${JSON.stringify(saved)}`);
    assert.ok(file.startsWith(workspaceRoot() + sep), `${file} is in the workspace`);
    const bytes = readFileSync(file);
    assert.ok(statSync(file).size > 10_000, `${file} is ${bytes.length} bytes`);
    assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.ok(bytes.includes(Buffer.from('avc1')), 'an H.264 track');
    assert.ok(bytes.includes(Buffer.from('mp4a')), 'an AAC track');
    assert.ok(bytes.includes(Buffer.from('Wan Studio emulator rehearsal output')), 'the rehearsal comment');
  });
});
