// What each entry point puts in the generation panel, and so what Generate sends: only what that action
// chose, never the inputs of an earlier request still in the form. Driven through the real commands, the real
// panel and player, and the emulator (its request log and the saved records show what was sent).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PlayerHandle } from '../../src/extension/player';
import type { GeneratorHandle } from '../../src/extension/panel/manager';
import type { TaskView } from '../../src/protocol/generate';
import { sidecarFor, writeSidecar } from '../../src/tasks/sidecar';
import type { TaskRecord } from '../../src/tasks/record';
import { record as makeRecord } from '../support/records';
import { makeAudio, makeImage, makeVideo, tempDir } from '../support/fixtures';
import { until, within } from '../support/waiting';
import { clearEmulatorRequests, emulatorRequests, extensionApi, isSaved, useEndpoint, workspaceRoot } from './support';
import type { WanStudioTesting } from '../../src/extension/activate';

const run = <T>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
const uri = (p: string) => vscode.Uri.file(p);

suite('Entry points', () => {
  let api: WanStudioTesting;
  let emulatorUrl: string;
  let dir: string;
  let files: { first: string; last: string; third: string; audio: string; clip: string };

  suiteSetup(async function () {
    this.timeout(90_000);
    api = await extensionApi();
    await useEndpoint(undefined);
    emulatorUrl = (await api.emulator()).url;
    // Inputs inside the workspace, as from the explorer.
    dir = join(workspaceRoot(), 'entry-inputs');
    await mkdir(dir, { recursive: true });
    const [first, last, third, audio, clip] = await Promise.all([
      makeImage(join(dir, 'first.png'), 750, 1000, 'orange'),
      makeImage(join(dir, 'last.png'), 750, 1000, 'purple'),
      makeImage(join(dir, 'third.png'), 750, 1000, 'green'),
      makeAudio(join(dir, 'voice.mp3'), 3),
      makeVideo(join(dir, 'clip.mp4'), 3, 480, 640),
    ]);
    files = { first, last, third, audio, clip };
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Waits until every task is saved (so none is still running when the next suite starts); their records. */
  async function saved(handle: GeneratorHandle, started: TaskView[]): Promise<TaskRecord[]> {
    await until(
      'the tasks saved',
      () => {
        const views = started.map((s) => handle.tasks().find((t) => t.id === s.id));
        for (const v of views) if (v?.error) throw new Error(`a task failed: ${v.error.message}`);
        // Saved, and the record beside the video written too (it follows the video).
        return (views.every((v) => v?.state === 'succeeded' && v.save === 'saved') && started.every((t) => { const r = api.tasks().find((x) => x.id === t.id); return r && isSaved(r); })) || undefined;
      },
      150_000,
    );
    return started.map((s) => {
      const r = api.tasks().find((t) => t.id === s.id);
      assert.ok(r, `task ${s.id} is in the list`);
      return r;
    });
  }

  test('Morph, then Continue Video from the Explorer: the continuation is sent without the morph\'s last frame, with a duration valid for the clip', async function () {
    this.timeout(200_000);
    const morph = await run<GeneratorHandle>('wanStudio.morphImages', uri(files.first), [uri(files.first), uri(files.last)]);
    assert.equal(morph.draft().lastFrame, files.last);
    const handle = await run<GeneratorHandle>('wanStudio.continueVideo', uri(files.clip));
    const draft = handle.draft();
    assert.equal(draft.mode, 'continue');
    assert.equal(draft.firstClip, files.clip);
    assert.equal(draft.lastFrame, undefined, 'the morph\'s last frame is not in the new request');
    assert.equal(draft.firstFrame, undefined);
    assert.ok(draft.duration > 3 && draft.duration <= 15, `duration ${draft.duration} for a 3 s clip`);
    const verdict = await handle.validate();
    assert.equal(verdict.canGenerate, true, JSON.stringify(verdict.issues));

    await clearEmulatorRequests(emulatorUrl);
    const [r] = await saved(handle, await handle.generate());
    assert.ok(r);
    assert.equal(r.request.lastFrame, undefined);
    assert.equal(r.request.firstClip, files.clip);
    const sidecar = JSON.parse(readFileSync(r.save!.file!.replace(/\.mp4$/, '.json'), 'utf8')) as { media: Record<string, string | undefined> };
    assert.deepEqual(Object.keys(sidecar.media).filter((k) => sidecar.media[k]), ['first_clip'], JSON.stringify(sidecar.media));
    assert.equal((await emulatorRequests(emulatorUrl)).filter((q) => q.route === 'create').length, 1);
  });

  test('New Generation given an image opens the form from that image alone; any other non-request is refused; nothing is sent', async function () {
    this.timeout(60_000);
    await run<GeneratorHandle>('wanStudio.morphImages', uri(files.first), [uri(files.first), uri(files.last)]);
    await clearEmulatorRequests(emulatorUrl);
    // Before, an image's URI started four quick inputs that no menu reached (and that never returned here).
    assert.equal(await within(Promise.resolve(run('wanStudio.generate', uri(files.third))), 20_000, 'New Generation with an image'), undefined);
    const draft = (await run<GeneratorHandle>('wanStudio.openGenerator')).draft();
    assert.equal(draft.mode, 'animate');
    assert.equal(draft.firstFrame, files.third);
    assert.equal(draft.lastFrame, undefined, 'the morph\'s last frame is not in the new request');
    const before = api.notifications().length;
    assert.equal(await within(Promise.resolve(run('wanStudio.generate', 'inputs/cat.jpg')), 20_000, 'New Generation with a string'), undefined);
    assert.match(api.notifications().at(-1)?.message ?? '', /^Nothing was requested \(nothing was sent or billed\): request: must be an object/);
    assert.equal(api.notifications().length - before, 1);
    assert.deepEqual((await emulatorRequests(emulatorUrl)).filter((q) => q.route !== 'task'), [], 'nothing was sent');
  });

  test('Use as Driving Audio, then Generate Video from Image on three images: no task uploads or sends the audio', async function () {
    this.timeout(200_000);
    const audio = await run<GeneratorHandle>('wanStudio.useAsDrivingAudio', uri(files.audio));
    assert.equal(audio.draft().drivingAudio, files.audio);
    const handle = await run<GeneratorHandle>('wanStudio.generateFromImage', uri(files.first), [uri(files.first), uri(files.last), uri(files.third)]);
    const draft = handle.draft();
    assert.equal(draft.drivingAudio, undefined, 'the audio of the earlier action is not in the new request');
    assert.equal(draft.firstFrame, files.first);
    assert.deepEqual(draft.batch, [files.last, files.third]);

    await clearEmulatorRequests(emulatorUrl);
    const records = await saved(handle, await handle.generate({ ...draft, duration: 2, resolution: '720P' }));
    assert.equal(records.length, 3);
    for (const r of records) assert.equal(r.request.drivingAudio, undefined, JSON.stringify(r.request));
    const requests = await emulatorRequests(emulatorUrl);
    assert.equal(requests.filter((q) => q.route === 'create').length, 3);
    assert.deepEqual(requests.filter((q) => q.route === 'upload' || q.route === 'policy'), [], 'nothing was uploaded (images go inline)');
  });

  test('the player\'s Continue This Video opens with only the clip, at its resolution, with a duration valid for it', async function () {
    this.timeout(120_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const outside = await tempDir('entry-player');
    try {
      const video = await makeVideo(join(outside, 'result.mp4'), 3, 640, 360);
      const rec = makeRecord({
        state: 'succeeded',
        taskId: 'task-entry-1',
        request: { firstFrame: files.first, lastFrame: files.last, prompt: 'an old prompt', resolution: '720P', duration: 3, seed: 5 },
      });
      await writeSidecar(join(outside, 'result.json'), sidecarFor(rec, video, 1));
      // An earlier request in the form, with a prompt and a last frame.
      await run('wanStudio.openGenerator', { mode: 'morph', prefill: { firstFrame: files.first, lastFrame: files.last, prompt: 'the morph prompt', duration: 3 } });
      const player = await run<PlayerHandle | undefined>('wanStudio.playVideo', uri(video));
      assert.ok(player);
      await within(player.metadata, 60_000, 'the player\'s metadata');
      await player.deliver({ type: 'action', action: 'continue' });
      const draft = (await run<GeneratorHandle>('wanStudio.openGenerator', {})).draft();
      assert.equal(draft.mode, 'continue');
      assert.equal(draft.firstClip, video);
      assert.equal(draft.resolution, '720P');
      assert.equal(draft.lastFrame, undefined);
      assert.equal(draft.firstFrame, undefined);
      assert.equal(draft.prompt, '');
      assert.ok(draft.duration > 3 && draft.duration <= 15 && Number.isInteger(draft.duration), `duration ${draft.duration} for a 3 s clip`);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('a page cannot widen what the panel shows: drafts naming outside paths get no preview and no resource root', async function () {
    this.timeout(60_000);
    const handle = await run<GeneratorHandle>('wanStudio.openGenerator');
    const roots = () => (handle.panel.webview.options.localResourceRoots ?? []).map((u) => u.fsPath);
    const outside = { mode: 'morph' as const, firstFrame: '/etc/passwd', lastFrame: '/root/.bashrc', drivingAudio: '../../etc/passwd', batch: ['/var/log/x.png'] };
    // Every message a page can send with a draft in it, through the panel's message channel.
    await handle.receive({ type: 'draft', draft: outside });
    const checked = await handle.receive({ type: 'request', id: 501, method: 'validate', params: { draft: outside } });
    assert.ok(checked?.ok, JSON.stringify(checked));
    await handle.receive({ type: 'request', id: 502, method: 'generate', params: { draft: outside } });
    const dropped = await handle.receive({ type: 'request', id: 503, method: 'drop', params: { uris: [uri(files.third).toString()], draft: outside } });
    assert.ok(dropped?.ok, JSON.stringify(dropped));
    await handle.receive({ type: 'request', id: 504, method: 'drop', params: { uris: ['file:///etc/passwd', 'file:///root/.bashrc'], draft: outside } });
    assert.deepEqual(roots(), []);
    // The preview the page gets for an outside file is not one it could load.
    const probes = checked.ok ? (checked.result as { probes: Record<string, { preview?: string } | undefined> }).probes : {};
    for (const p of Object.values(probes)) assert.equal(p?.preview, undefined, JSON.stringify(p));
  });
});
