// A batch of three from one request of the Explorer's kind (same prompt, settings and seed, one image each), then
// the Gallery: the Tasks view tells the three rows apart by their image and shows each video's poster frame, the
// user hears once ("3 videos ready"), and the Gallery lists them with a video the CLI saved in the same folder;
// Delete removes a video, its record and its task. On the extension's own rehearsal emulator.
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { WanStudioTesting } from '../../src/extension/activate';
import type { TaskRecord } from '../../src/tasks/record';
import { extensionApi, isSaved, record, sampleInput, useEndpoint, waitFor } from './support';

function row(api: WanStudioTesting, id: string): vscode.TreeItem {
  const node = api.treeChildren().find((n) => n.id === `task/${id}`);
  assert.ok(node, `task ${id} is in the tree`);
  return api.treeItem(node);
}
const text = (l: vscode.TreeItem['label']) => (typeof l === 'string' ? l : (l?.label ?? ''));

suite('Gallery and a batch in the Tasks view', () => {
  let api: WanStudioTesting;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await extensionApi();
    await useEndpoint(undefined);
  });

  test('a batch of three: three rows named by their image with poster icons, one notification; the Gallery lists them and a CLI video; Delete removes one', async function () {
    this.timeout(240_000);
    const images = [sampleInput('first-frame.jpg', 'one.jpg'), sampleInput('last-frame.jpg', 'two.jpg'), sampleInput('first-frame.jpg', 'three.jpg')];
    const prompt = 'batch: a gentle zoom';
    const before = api.notifications().length;
    const made: TaskRecord[] = [];
    for (const image of images) {
      made.push(await vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', { firstFrame: image, prompt, duration: 2, resolution: '720P', seed: 4242 }));
    }
    const ids = made.map((r) => r.id);
    // Told apart at once, while running: by image, status first for a screen reader, no "time left" yet.
    assert.deepEqual(ids.map((id) => text(row(api, id).label)), ['one.jpg · batch: a gentle zoom', 'two.jpg · batch: a gentle zoom', 'three.jpg · batch: a gentle zoom']);
    assert.match(row(api, ids[0]!).accessibilityInformation?.label ?? '', /^(Queued|Creating…|Pending|Running) · just now: one\.jpg · batch/);
    const saved = await waitFor(api, 'the three videos saved', () => {
      const rs = ids.map((id) => record(api, id));
      return rs.every(isSaved) ? rs : undefined;
    }, 180_000);
    for (const id of ids) assert.doesNotMatch(String(row(api, id).description), /left/);

    // One notice for the three, naming each image, with Show.
    const notices = await waitFor(api, 'the batch notice', () => {
      const n = api.notifications().slice(before).filter((x) => x.kind === 'ended' && ids.some((id) => x.recordId === id || x.recordIds?.includes(id)));
      return n.length ? n : undefined;
    }, 30_000, true);
    const noticedAt = Date.now();
    assert.equal(notices[0]!.message, '3 videos ready: one.jpg, two.jpg, three.jpg');
    assert.deepEqual(notices[0]!.actions, ['Show']);
    assert.deepEqual([...(notices[0]!.recordIds ?? [])].sort(), [...ids].sort());

    // Poster frames: each row's icon becomes a PNG made from its own video.
    const icons = await waitFor(api, 'three poster icons', () => {
      const got = ids.map((id) => row(api, id).iconPath);
      return got.every((i) => i instanceof vscode.Uri) ? got : undefined;
    }, 120_000, true);
    assert.equal(new Set(icons.map((i) => i.fsPath)).size, 3);
    for (const i of icons) assert.ok(i.fsPath.endsWith('.png') && existsSync(i.fsPath), i.fsPath);
    // Nothing more came in at least 1.5 s after the batch notice (the wait for the posters counts towards it).
    await new Promise((r) => setTimeout(r, Math.max(0, 1500 - (Date.now() - noticedAt))));
    const ended = api.notifications().slice(before).filter((x) => x.kind === 'ended' && ids.some((id) => x.recordId === id || x.recordIds?.includes(id)));
    assert.equal(ended.length, 1, ended.map((n) => n.message).join('\n'));

    // Copy Task ID says what it copied.
    await vscode.commands.executeCommand('wanStudio.task.copyId', ids[0]);
    assert.equal(await vscode.env.clipboard.readText(), saved[0]!.taskId);
    assert.equal(api.notifications().at(-1)?.message, `Copied the task ID ${saved[0]!.taskId}.`);

    // A video the CLI saved in the same folder (no record beside it, named by its task ID).
    const folder = dirname(saved[0]!.save!.file!);
    const cli = join(folder, 'wan-cli0task0gallery.mp4');
    copyFileSync(saved[1]!.save!.file!, cli);
    const entries = await api.galleryEntries();
    const byFile = new Map(entries.map((e) => [e.file, e]));
    for (const r of saved) assert.equal(byFile.get(r.save!.file!)?.prompt, prompt);
    assert.equal(byFile.get(saved[0]!.save!.file!)?.mode, 'animate');
    assert.deepEqual([byFile.get(cli)?.source, byFile.get(cli)?.taskId], ['file', 'cli0task0gallery']);

    // The Gallery page's host: the list with a search, then an action on a card it listed (and only those).
    await vscode.commands.executeCommand('wanStudio.gallery.focus');
    const page = await waitFor(api, 'the Gallery page', () => api.galleryPage(), 30_000, true);
    await page.whenReady();
    const reply = (await page.receive({ type: 'request', id: 901, method: 'list', params: { query: 'GENTLE zoom', mode: 'animate' } })) as {
      ok: boolean;
      result: { cards: { key: string; fileName: string; video: string; poster?: string }[]; total: number };
    };
    assert.equal(reply.ok, true);
    assert.ok(reply.result.total >= 4, `total ${reply.result.total}`);
    const listed = reply.result.cards.map((c) => c.fileName);
    for (const r of saved) assert.ok(listed.includes(r.save!.file!.split('/').pop()!), listed.join(', '));
    assert.ok(reply.result.cards.every((c) => c.poster === undefined || c.poster.includes('posters')));
    const all = (await page.receive({ type: 'request', id: 902, method: 'list', params: { query: 'wan-cli0task0gallery' } })) as typeof reply;
    assert.deepEqual(all.result.cards.map((c) => c.fileName), ['wan-cli0task0gallery.mp4']);
    assert.match(all.result.cards[0]!.video, /^wan-media:/);
    const refused = (await page.receive({ type: 'request', id: 903, method: 'act', params: { key: '/etc/passwd', action: 'delete' } })) as { ok: boolean; error?: string };
    assert.equal(refused.ok, false);
    assert.match(refused.error ?? '', /no longer in the gallery/);

    // Delete: the video, its record beside it, and its task.
    const gone = saved[2]!;
    assert.equal(await vscode.commands.executeCommand('wanStudio.deleteVideo', vscode.Uri.file(gone.save!.file!), { confirm: false }), true);
    assert.equal(existsSync(gone.save!.file!), false);
    assert.equal(existsSync(gone.save!.file!.replace(/\.mp4$/, '.json')), false);
    await waitFor(api, 'the task gone from the list', () => !api.tasks().some((r) => r.id === gone.id), 10_000, true);
    assert.equal((await api.galleryEntries()).some((e) => e.file === gone.save!.file), false);
    assert.equal(await vscode.commands.executeCommand('wanStudio.deleteVideo', vscode.Uri.file(cli), { confirm: false }), true);
    assert.equal(existsSync(cli), false);
  });
});
