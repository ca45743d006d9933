// Tasks made by command against the extension's own (detached) rehearsal emulator: the task walks
// Queued → Pending → Running → Succeeded in the store and the tree, its video and JSON record land in
// videos/ with no panel open, the user hears about it once, and bad input loses nothing.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { GeneratorHandle } from '../../src/extension/panel/manager';
import type { WanStudioTesting } from '../../src/extension/activate';
import type { TaskTreeNode } from '../../src/extension/tasks/tree';
import type { TaskRecord } from '../../src/tasks/record';
import {
  clearEmulatorRequests,
  emulatorRequests,
  extensionApi,
  holdEmulatorRunning,
  isSaved,
  noticesFor,
  record,
  sampleInput,
  useEndpoint,
  waitFor,
  watchStates,
  workspaceRoot,
} from './support';
import { within } from '../support/waiting';

interface Seen {
  label: string;
  description: string;
  contextValue: string;
  icon: string;
}

function nodeOf(api: WanStudioTesting, id: string): TaskTreeNode | undefined {
  return api.treeChildren().find((n) => n.id === `task/${id}`);
}

function look(api: WanStudioTesting, id: string): Seen | undefined {
  const node = nodeOf(api, id);
  if (!node) return undefined;
  const item = api.treeItem(node);
  return {
    label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
    description: String(item.description),
    contextValue: item.contextValue ?? '',
    // A saved video's row shows its poster frame once it is made.
    icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : `poster:${(item.iconPath as vscode.Uri).fsPath}`,
  };
}

suite('Tasks', () => {
  let api: WanStudioTesting;
  let emulatorUrl: string;
  let walked: TaskRecord;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await extensionApi();
    await useEndpoint(undefined);
    emulatorUrl = (await api.emulator()).url;
    // Task Details renders through the built-in Markdown extension. Its first use activates it and loads its
    // engine (seconds on a loaded machine, more when this suite runs alone): wait for that here, on its own
    // event, rather than inside the walk's budget.
    await vscode.commands.executeCommand('markdown.api.render', '# Task details');
  });

  test('a task made by command walks Queued → Pending → Running → Succeeded in the tree, and its video and record are saved with no panel open', async function () {
    this.timeout(120_000);
    sampleInput('first-frame.jpg', 'cat.jpg');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await clearEmulatorRequests(emulatorUrl);
    const before = api.notifications().length;
    let id = '';
    const byState = new Map<string, Seen>();
    const states = watchStates(api, () => (id ? [id] : []));
    const sub = api.onDidChangeTasks(() => {
      const r = id && api.tasks().find((t) => t.id === id);
      const seen = r && look(api, id);
      if (r && seen && !byState.has(r.state)) byState.set(r.state, seen);
    });
    // The suite's emulator runs a task for a second or so: held RUNNING until the tree has shown that state.
    await holdEmulatorRunning(emulatorUrl, true);
    try {
      const queued = await vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', {
        firstFrame: 'inputs/cat.jpg',
        prompt: 'the cat looks up, walk test',
        duration: 2,
        resolution: '720P',
      });
      assert.ok(queued, 'the command returned the task record');
      id = queued.id;
      assert.equal(queued.state, 'queued');
      assert.equal(queued.request.firstFrame, join(workspaceRoot(), 'inputs', 'cat.jpg'));
      assert.equal(queued.workspaceFolder, workspaceRoot());
      // The tree shows it at once, before anything is sent.
      const first = look(api, id);
      assert.ok(first, 'the new task is in the tree');
      if (!byState.has('queued')) byState.set('queued', first);
      await waitFor(api, 'the task RUNNING', () => api.tasks().find((t) => t.id === id)?.state === 'running', 60_000);
      await holdEmulatorRunning(emulatorUrl, false);
      walked = await waitFor(api, 'the video to be saved', () => {
        const r = api.tasks().find((t) => t.id === id);
        return r && isSaved(r) ? r : undefined;
      }, 100_000);
    } finally {
      sub.dispose();
      states.dispose();
      await holdEmulatorRunning(emulatorUrl, false);
    }
    const order = states.states(id).filter((s) => ['queued', 'pending', 'running', 'succeeded'].includes(s));
    assert.deepEqual(order, ['queued', 'pending', 'running', 'succeeded'], `states seen: ${states.states(id).join(' → ')}`);

    // The tree, state by state.
    assert.equal(byState.get('queued')?.label, 'the cat looks up, walk test');
    assert.equal(byState.get('queued')?.icon, 'loading~spin');
    assert.equal(byState.get('queued')?.contextValue, 'task:queued:cancelable:hasPrompt:repeatable:removable');
    assert.match(byState.get('queued')?.description ?? '', /^Queued · just now$/);
    assert.equal(byState.get('pending')?.icon, 'loading~spin');
    assert.equal(byState.get('pending')?.contextValue, 'task:pending:cancelable:hasTaskId:hasPrompt:repeatable');
    // No "time left" while it runs: the service's 24 hours start to matter once it has ended.
    assert.match(byState.get('pending')?.description ?? '', /^Pending · just now$/);
    assert.equal(byState.get('running')?.icon, 'loading~spin');
    assert.equal(byState.get('running')?.contextValue, 'task:running:hasTaskId:hasPrompt:repeatable');
    assert.match(byState.get('running')?.description ?? '', /^Running · just now$/);
    const done = look(api, id)!;
    assert.ok(done.icon === 'pass' || /^poster:.*\.png$/.test(done.icon), done.icon);
    assert.equal(done.contextValue, 'task:succeeded:saved:hasTaskId:hasPrompt:repeatable:removable');
    assert.match(done.description, /^Saved · (just now|1 min)$/);

    // The saved video is the task's child; clicking it plays it.
    const node = nodeOf(api, id)!;
    const [video] = api.treeChildren(node);
    assert.ok(video, 'the saved video is a child item');
    const videoItem = api.treeItem(video);
    assert.equal(videoItem.contextValue, 'video');
    assert.equal(videoItem.label, basename(walked.save!.file!));
    assert.equal(videoItem.command?.command, 'wanStudio.playVideo');
    assert.equal((videoItem.command?.arguments?.[0] as vscode.Uri).fsPath, walked.save!.file);

    // Every detail in the tooltip.
    const tooltip = (api.resolveTreeItem(node).tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ').replace(/\\(.)/g, '$1');
    for (const part of [walked.taskId!, walked.requestId!, 'Rehearsal', basename(walked.save!.file!), 'output_video_duration 2', '720P']) {
      assert.ok(tooltip.includes(part), `the tooltip mentions ${part}: ${tooltip}`);
    }

    // The files: in videos/ of the workspace, an MP4 and its JSON record, never the key.
    const file = walked.save!.file!;
    assert.equal(dirname(file), join(workspaceRoot(), 'videos'));
    assert.match(basename(file), /^\d{4}-\d\d-\d\d_\d{4}_the-cat-looks-up-walk-test_[A-Za-z0-9]{8}\.mp4$/);
    assert.equal(statSync(file).size, walked.save!.bytes);
    assert.equal(readFileSync(file).subarray(4, 8).toString('latin1'), 'ftyp');
    const sidecarText = readFileSync(file.replace(/\.mp4$/, '.json'), 'utf8');
    const sidecar = JSON.parse(sidecarText) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(sidecar.format, 'wan-studio.video/1');
    assert.equal(sidecar.task_id, walked.taskId);
    assert.equal(sidecar.prompt, 'the cat looks up, walk test');
    assert.equal(sidecar.rehearsal, true);
    assert.deepEqual(sidecar.parameters, { resolution: '720P', duration: 2 });
    assert.equal(sidecar.media.first_frame, join(workspaceRoot(), 'inputs', 'cat.jpg'));
    for (const text of [sidecarText, readFileSync(api.taskFile, 'utf8')]) assert.doesNotMatch(text, /sk-|Bearer|data:image/);

    // No panel was needed, one create was sent, and the user heard about it once.
    const webviews = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);
    assert.deepEqual(webviews, []);
    const creates = (await emulatorRequests(emulatorUrl)).filter((r) => r.route === 'create');
    assert.equal(creates.length, 1);
    await noticesFor(api, id, 'ended');
    const notices = api.notifications().slice(before).filter((n) => n.recordId === id);
    assert.equal(notices.length, 1, JSON.stringify(notices));
    assert.equal(notices[0]!.kind, 'ended');
    assert.match(notices[0]!.message, /^Video ready: the cat looks up, walk test \(/);
    assert.deepEqual(notices[0]!.actions, ['Play', 'Reveal', 'Details']);
  });

  test('bad input is refused field by field: nothing is queued, nothing is sent, and the host lives on', async () => {
    await clearEmulatorRequests(emulatorUrl);
    const count = api.tasks().length;
    const before = api.notifications().length;
    const attempts: [unknown, RegExp][] = [
      [{ firstframe: 'inputs/cat.jpg' }, /firstframe: is not a request field/],
      [{ firstFrame: 'inputs/cat.jpg', duration: 42 }, /parameters\.duration: must be at most 15 seconds/],
      [{ firstFrame: 'inputs/cat.jpg', resolution: '4K' }, /resolution/],
      [{ firstFrame: 'inputs/no-such-image.png' }, /input\.media\[first_frame\]: no-such-image\.png was not found/],
      [{ firstFrame: 'data:image/png;base64,AAAA' }, /inline data: URIs are not stored/],
      [{ firstFrame: 'inputs/cat.jpg', lastFrame: 'inputs/cat.jpg', firstClip: 'inputs/clip.mp4' }, /first_frame \+ first_clip \+ last_frame is not a valid combination/],
    ];
    for (const [arg, expected] of attempts) {
      const result = await vscode.commands.executeCommand<TaskRecord | undefined>('wanStudio.generate', arg);
      assert.equal(result, undefined, JSON.stringify(arg));
      const notice = api.notifications().at(-1);
      assert.equal(notice?.severity, 'error');
      assert.match(notice?.message ?? '', /^Nothing was requested \(nothing was sent or billed\): /);
      assert.match(notice?.message ?? '', expected);
    }
    assert.equal(api.notifications().length - before, attempts.length, JSON.stringify(api.notifications().slice(before), null, 1));
    assert.equal(api.tasks().length, count, 'nothing was queued');
    assert.deepEqual((await emulatorRequests(emulatorUrl)).filter((r) => r.route !== 'task'), [], 'nothing was sent');
    // A command on a task that is not there fails politely too.
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.cancel', 'no-such-task'), undefined);
    assert.match(api.notifications().at(-1)?.message ?? '', /no longer in the list/);
    assert.ok(vscode.extensions.getExtension('wan-studio.wan-studio')?.isActive);
  });

  test('Generate Again repeats the request and Continue This Video sends the saved video as the first clip', async function () {
    this.timeout(150_000);
    assert.ok(walked, 'the walk test made a task');
    await clearEmulatorRequests(emulatorUrl);
    const again = await vscode.commands.executeCommand<TaskRecord>('wanStudio.task.generateAgain', walked.id, { confirm: false });
    const cont = await vscode.commands.executeCommand<TaskRecord>('wanStudio.task.continueVideo', walked.id, { prompt: 'and then it jumps', duration: 4 });
    assert.ok(again && cont);
    assert.notEqual(again.id, walked.id);
    assert.deepEqual(again.request, walked.request);
    assert.equal(cont.request.firstClip, walked.save!.file);
    assert.equal(cont.request.duration, 4);
    const [a, c] = await waitFor(api, 'both new videos', () => {
      const rs = [record(api, again.id), record(api, cont.id)];
      return rs.every(isSaved) ? rs : undefined;
    }, 140_000);
    assert.notEqual(a!.save!.file, walked.save!.file, 'a new file, never an overwrite');
    const sidecar = JSON.parse(readFileSync(c!.save!.file!.replace(/\.mp4$/, '.json'), 'utf8')) as { media: { first_clip?: string }; parameters: { duration?: number } };
    assert.equal(sidecar.media.first_clip, walked.save!.file);
    assert.equal(sidecar.parameters.duration, 4);
    const requests = await emulatorRequests(emulatorUrl);
    assert.equal(requests.filter((r) => r.route === 'create').length, 2);
    assert.ok(requests.some((r) => r.route === 'upload'), 'the local clip went up through the temporary upload');
  });

  test('From the tree, Generate Again and Continue This Video open the generation panel prefilled, sending nothing', async function () {
    // Above its own 40 s wait for the page, with room for a loaded machine.
    this.timeout(90_000);
    assert.ok(walked, 'the walk test made a task');
    await clearEmulatorRequests(emulatorUrl);
    // Each opening is waited for until its page says ready: the panel really shows the prefilled form.
    const form = async () => {
      const handle = await vscode.commands.executeCommand<GeneratorHandle>('wanStudio.openGenerator', {});
      await within(handle.ready(), 40_000, "the generation panel's ready message");
      return handle.draft();
    };
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.generateAgain', walked.id), undefined);
    const again = await form();
    assert.equal(again.firstFrame, walked.request.firstFrame);
    assert.equal(again.prompt, walked.request.prompt ?? '');
    assert.equal(again.duration, walked.request.duration);
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.continueVideo', walked.id), undefined);
    const cont = await form();
    assert.equal(cont.mode, 'continue');
    assert.equal(cont.firstClip, walked.save!.file);
    assert.deepEqual((await emulatorRequests(emulatorUrl)).filter((r) => r.route === 'create'), [], 'the panel decides; nothing was sent');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Play, Reveal, Details, Copy Task ID, Copy Prompt, Remove from List and Clear Finished', async function () {
    // Two webviews open here, the player and the Markdown preview of Details: in code-server each new webview waits
    // for the webview service worker to hand over to it, seconds each on a loaded machine. Each wait is named.
    this.timeout(90_000);
    const errors = api.notifications().filter((n) => n.severity === 'error').length;
    const player = await vscode.commands.executeCommand<{ file: vscode.Uri; metadata: Promise<{ width: number; height: number }> }>('wanStudio.task.play', walked.id);
    assert.equal(player?.file.fsPath, walked.save!.file);
    const metadata = await within(player.metadata, 45_000, "the player's metadata"); // room for a loaded machine
    assert.deepEqual([metadata.width, metadata.height], [walked.outputSize!.width, walked.outputSize!.height]);
    await vscode.commands.executeCommand('wanStudio.task.reveal', walked.id);
    const details = await within(Promise.resolve(vscode.commands.executeCommand<vscode.TextDocument>('wanStudio.task.showDetails', walked.id)), 25_000, 'Task Details');
    // Markdown source: VS Code 1.100's MarkdownString.appendText escapes "-" as "\\-", 1.139's leaves it as it is.
    const detailsText = details?.getText().replace(/\\(.)/g, '$1');
    assert.ok(detailsText?.includes(walked.taskId!), 'the details name the task ID');
    assert.equal(api.notifications().filter((n) => n.severity === 'error').length, errors, 'no command failed');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.copyId', walked.id), walked.taskId);
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.copyPrompt', walked.id), walked.request.prompt);
    assert.equal(await vscode.commands.executeCommand('wanStudio.task.remove', walked.id), 1);
    assert.equal(nodeOf(api, walked.id), undefined, 'gone from the tree');
    assert.ok(existsSync(walked.save!.file!), 'removing a task from the list never deletes its video');
    await vscode.commands.executeCommand('wanStudio.clearFinished');
    assert.deepEqual(api.tasks().filter((t) => !['queued', 'creating', 'pending', 'running', 'unresolved'].includes(t.state)), []);
    assert.equal(api.badge(), undefined, 'no badge when nothing runs');
  });
});
