import * as assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PlayerHandle } from '../../src/extension/player';
import { LoadMessage, parseWebviewMessage } from '../../src/protocol/player';
import { makeVideo, tempDir } from '../support/fixtures';
import { within } from '../support/waiting';
import { extensionApi } from './support';

const play = (arg?: unknown) => vscode.commands.executeCommand<PlayerHandle | undefined>('wanStudio.playVideo', arg);

suite('Player panel', () => {
  let dir: string;
  let video: vscode.Uri;

  suiteSetup(async function () {
    this.timeout(60_000);
    dir = await tempDir('player');
    video = vscode.Uri.file(await makeVideo(join(dir, 'clip.mp4'), 2, 320, 240));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the protocol accepts valid messages and rejects invalid ones', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { ok: true, message: { type: 'ready' } });
    assert.equal(parseWebviewMessage({ type: 'ready', canPlayAac: '' }).ok, true);
    const meta = parseWebviewMessage({ type: 'metadata', width: 320, height: 240, duration: 2 });
    assert.equal(meta.ok, true);
    const report = { type: 'audioReport', source: 'preview', via: 'probe', canPlayAac: '', result: 'silent', audioBytes: 0, videoBytes: 10 };
    assert.equal(parseWebviewMessage(report).ok, true);
    assert.equal(parseWebviewMessage({ type: 'action', action: 'generateAgain', seed: 'new' }).ok, true);
    assert.equal(parseWebviewMessage({ type: 'frame', time: 1, width: 2, height: 2, pngBase64: 'iVBORw0KGgo=' }).ok, true);
    // The page answers the host's captureFrame request with a reply carrying its id.
    assert.equal(parseWebviewMessage({ type: 'reply', id: 1, ok: true, result: { time: 1, width: 2, height: 2, pngBase64: 'iVBORw0KGgo=' } }).ok, true);
    assert.equal(parseWebviewMessage({ type: 'reply', id: 2, ok: false, error: 'seeking timed out' }).ok, true);
    for (const bad of [
      null,
      'ready',
      { type: 'play' },
      { type: 'metadata', width: '320', height: 240, duration: 2 },
      { type: 'metadata', width: 320.5, height: 240, duration: 2 },
      { type: 'metadata', width: 320, height: 240 },
      { type: 'metadata', width: 320, height: 240, duration: Infinity },
      { type: 'mediaError' },
      { type: 'ready', canPlayAac: 'yes' },
      { type: 'reveal' },
      { type: 'action', action: 'reveal', path: '/etc/passwd' },
      { type: 'action', action: 'deleteFile' },
      { type: 'action', action: 'generateAgain', seed: 42 },
      { ...report, result: 'loud' },
      { ...report, source: '/tmp/other.mp4' },
      { type: 'frame', time: 1, width: 2, height: 2, pngBase64: 'not base64!' },
      { type: 'frame', id: 1, time: 1, width: 2, height: 2, pngBase64: 'iVBORw0KGgo=' },
      { type: 'reply', id: -1, ok: true, result: {} },
      { type: 'reply', id: 3, ok: false },
      { type: 'frame', time: 1, width: 0, height: 2, pngBase64: 'iVBORw0KGgo=' },
      { type: 'frame', time: 1, width: 9000, height: 2, pngBase64: 'iVBORw0KGgo=' },
      // Over the size bound (40 MB of PNG): refused before any decoding.
      { type: 'frame', time: 1, width: 2, height: 2, pngBase64: 'A'.repeat(56 * 1024 * 1024) },
    ]) {
      const result = parseWebviewMessage(bad);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(bad)?.slice(0, 200)}`);
      assert.ok(!result.ok && result.error.length > 0);
    }
    // The host→webview schema is strict too.
    assert.equal(LoadMessage.safeParse({ type: 'load', src: 'x', source: 'original', title: 't', bytes: -1, locale: 'en', labels: {}, facts: [], enabled: {} }).success, false);
  });

  test('plays an MP4 in a webview, which reports its real width, height and duration', async function () {
    this.timeout(60_000);
    const handle = await play(video);
    assert.ok(handle, 'the command resolved to nothing');
    assert.equal(handle.viewType, 'wanStudio.player');
    assert.equal(handle.panel.viewType, 'wanStudio.player');
    // Apart from VS Code's own preview tab, which shows the bare name.
    assert.equal(handle.title, 'clip.mp4 — Wan Studio');
    assert.equal(handle.reused, false);
    assert.equal(handle.panel.visible, true);
    assert.equal(handle.panel.webview.options.enableScripts, true);
    assert.deepEqual(handle.panel.webview.options.localResourceRoots, [], 'the video comes over the message channel, not from disk');
    const meta = await within(handle.metadata, 30_000, 'metadata from the webview');
    assert.equal(meta.width, 320);
    assert.equal(meta.height, 240);
    assert.ok(Math.abs(meta.duration - 2) < 0.15, `duration ${meta.duration}`);
  });

  test('running the command again on the same file reuses the panel', async function () {
    this.timeout(30_000);
    const first = await play(video);
    const second = await play(vscode.Uri.file(video.fsPath));
    assert.ok(first && second);
    assert.equal(second.reused, true);
    assert.strictEqual(second.panel, first.panel);
    assert.strictEqual(second.metadata, first.metadata);

    // Once closed, the next run opens a fresh panel.
    first.panel.dispose();
    const third = await play(video);
    assert.ok(third);
    assert.equal(third.reused, false);
    assert.notStrictEqual(third.panel, first.panel);
    const meta = await within(third.metadata, 30_000, 'metadata from the new panel');
    assert.equal(meta.width, 320);
    third.panel.dispose();
  });

  test('a page still blank after a reload is opened again in a new panel, and plays there', async function () {
    // As for the generation panel: code-server 1.100 can leave a webview's frame waiting for a service worker change
    // that never comes (see WebviewHost.watchReady), and reloading its HTML cannot help. The page is made silent
    // here, as that race leaves it. Before: the player stayed blank and its metadata never came.
    this.timeout(90_000);
    const api = await extensionApi();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    api.silenceNextPages(1);
    const handle = await play(video);
    assert.ok(handle);
    const blank = handle.panel;
    let closed = false;
    blank.onDidDispose(() => (closed = true));
    const meta = await within(handle.metadata, 60_000, 'metadata from the page in its new panel');
    assert.equal(meta.width, 320);
    assert.ok(closed, 'the blank panel was closed');
    assert.notStrictEqual(handle.panel, blank);
    assert.equal(handle.panel.visible, true);
    assert.equal(handle.title, 'clip.mp4 — Wan Studio');
    const again = await play(video);
    assert.equal(again?.reused, true);
    assert.strictEqual(again?.panel, handle.panel, 'one player for the file: the new one');
    handle.panel.dispose();
  });

  test('a file that is not .mp4 or .mov is refused', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a video');
    assert.equal(await play(vscode.Uri.file(text)), undefined);
  });
});
