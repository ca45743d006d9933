// The window-reload scenario, shared by its two halves: three generations are started and caught
// running; then the window reloads (code-server: the launcher reloads the page, a new extension host
// starts); the new window must take the tasks over, poll them to the end, save the three videos with
// their records, and create nothing: the emulator's request log holds exactly three creates.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { WanStudioTesting } from '../../src/extension/activate';
import type { EmulatorState } from '../../src/extension/emulatorProcess';
import type { TaskRecord } from '../../src/tasks/record';
import { BOARD_VERSION, type Board } from '../../src/storyboard/board';
import type { RunResult } from '../../src/storyboard/run';
import { clearEmulatorRequests, emulatorRequests, holdEmulatorRunning, isSaved, noticesFor, record, sampleInput, useEndpoint, waitFor, workspaceRoot } from './support';

export interface Handoff {
  ids: string[];
  taskIds: string[];
  windowId: string;
  emulator: EmulatorState;
  /** Real time when the first window handed over. */
  at: number;
  /** Creates the emulator had when the window went. */
  creates: number;
  /** A storyboard whose Generate was waiting for its first shot's clip (to cut the second from) when the window went. */
  board?: { path: string; firstShot: string };
}

/**
 * Starts a two-shot board's Generate: its first shot is held running, so the run waits for that clip before
 * it can cut and send the second. The window's reload cuts the run short there.
 */
export async function startBoardAndCatchItWaiting(api: WanStudioTesting, handoff: Handoff): Promise<Handoff> {
  const path = join(workspaceRoot(), 'inputs', 'reload.wanboard.json');
  const board: Board = {
    version: BOARD_VERSION,
    settings: { resolution: '720P', watermark: false, promptExtend: false },
    shots: [
      { id: 'shot-1', prompt: 'reload board: the bird lands', duration: 2, start: { keyframe: 'bird.jpg' } },
      { id: 'shot-2', prompt: 'reload board: the bird looks around', duration: 2, start: { continue: true, overlap: 2 } },
    ],
  };
  writeFileSync(path, JSON.stringify(board, null, 2));
  // Not awaited: it ends with this window.
  void Promise.resolve(vscode.commands.executeCommand('wanStudio.storyboard.generate', vscode.Uri.file(path))).catch(() => undefined);
  const first = await waitFor(api, 'the board\'s first shot on the service', () => api.tasks().find((r) => r.shot?.board === path && r.shot.shotId === 'shot-1' && r.taskId));
  assert.equal(api.tasks().filter((r) => r.shot?.board === path).length, 1, 'the second shot waits for the first one\'s clip');
  return { ...handoff, creates: handoff.creates + 1, board: { path, firstShot: first.id }, at: Date.now() };
}

/** In the reloaded window: the cut-short run is told of, with Resume; Resume sends the second shot, once. */
export async function checkBoardResumed(api: WanStudioTesting, handoff: Handoff): Promise<void> {
  const { path, firstShot } = handoff.board!;
  const notice = await waitFor(api, 'the notice of the cut-short storyboard', () => api.notifications().find((n) => n.kind === 'interrupted' && n.message.includes('reload.wanboard.json')));
  assert.deepEqual(notice.actions, ['Resume', 'Open Storyboard']);
  assert.match(notice.message, /was generating when the window closed, so the shots it had not sent yet were not sent/);
  await waitFor(api, 'the first shot saved', () => (isSaved(record(api, firstShot)) ? true : undefined), 120_000);
  // What Resume runs.
  const result = await vscode.commands.executeCommand<RunResult>('wanStudio.storyboard.generate', vscode.Uri.file(path));
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.sent.map((s) => s.shotId), ['shot-2'], 'only the shot not sent before');
  const creates = (await emulatorRequests(handoff.emulator.url)).filter((r) => r.route === 'create').length;
  assert.equal(creates, handoff.creates + 1, 'the first shot was not sent again');
}

export async function startThreeAndCatchThemRunning(api: WanStudioTesting): Promise<Handoff> {
  await useEndpoint(undefined);
  sampleInput('last-frame.jpg', 'bird.jpg');
  const emulator = await api.emulator();
  await clearEmulatorRequests(emulator.url);
  // The suite's emulator runs a task for a second or so: held, the three are still RUNNING on the service when the
  // window goes and when the new one takes over (checkResumed releases them).
  await holdEmulatorRunning(emulator.url, true);
  const made = await Promise.all(
    [1, 2, 3].map((n) =>
      vscode.commands.executeCommand<TaskRecord>('wanStudio.generate', { firstFrame: 'inputs/bird.jpg', prompt: `reload ${n}: the bird takes off`, duration: 2, resolution: '720P' }),
    ),
  );
  const ids = made.map((r) => r.id);
  const running = await waitFor(api, 'three tasks on the service, one of them RUNNING', () => {
    const rs = ids.map((id) => record(api, id));
    return rs.every((r) => r.taskId && (r.state === 'pending' || r.state === 'running')) && rs.some((r) => r.state === 'running') ? rs : undefined;
  });
  const creates = (await emulatorRequests(emulator.url)).filter((r) => r.route === 'create');
  assert.equal(creates.length, 3);
  return { ids, taskIds: running.map((r) => r.taskId!), windowId: api.windowId(), emulator, at: Date.now(), creates: creates.length };
}

export async function checkResumed(api: WanStudioTesting, handoff: Handoff): Promise<void> {
  assert.notEqual(api.windowId(), handoff.windowId, 'a new window (a new lease owner) took over');
  assert.deepEqual(await api.emulator(), handoff.emulator, 'the emulator outlived the reload: same process, same URL');
  // The new window polls each task while it still runs (held since before the reload: every answer is RUNNING),
  // then they may end.
  const polledAfter = async (taskId: string) =>
    (await emulatorRequests(handoff.emulator.url)).some((r) => r.route === 'task' && r.path.endsWith(`/${taskId}`) && r.status === 200 && Date.parse(r.at) > handoff.at);
  const deadline = Date.now() + 60_000;
  while (!(await Promise.all(handoff.taskIds.map(polledAfter))).every(Boolean)) {
    assert.ok(Date.now() < deadline, 'the new window polled each task within 60 s of taking over');
    await new Promise((r) => setTimeout(r, 250));
  }
  await holdEmulatorRunning(handoff.emulator.url, false);
  const done = await waitFor(api, 'the three videos', () => {
    const rs = handoff.ids.map((id) => record(api, id));
    return rs.every(isSaved) ? rs : undefined;
  }, 120_000);
  assert.deepEqual(done.map((r) => r.taskId), handoff.taskIds, 'the same tasks, followed to the end');

  const requests = await emulatorRequests(handoff.emulator.url);
  assert.equal(requests.filter((r) => r.route === 'create').length, handoff.creates, 'nothing was created twice');
  for (const taskId of handoff.taskIds) {
    const polls = requests.filter((r) => r.route === 'task' && r.path.endsWith(`/${taskId}`) && Date.parse(r.at) > handoff.at);
    assert.ok(polls.length >= 1, `task ${taskId} was polled after the handover`);
  }
  // This window finished them: it announced each end, once.
  for (const id of handoff.ids) {
    await noticesFor(api, id, 'ended');
    const notices = api.notifications().filter((n) => n.recordId === id);
    assert.equal(notices.length, 1, `one notification for ${id}`);
    assert.match(notices[0]!.message, /^Video ready: reload \d: the bird takes off/);
  }
  for (const r of done) {
    assert.equal(dirname(r.save!.file!), join(workspaceRoot(), 'videos'));
    assert.ok(existsSync(r.save!.file!));
    const sidecar = JSON.parse(readFileSync(r.save!.file!.replace(/\.mp4$/, '.json'), 'utf8')) as { task_id: string; bytes: number };
    assert.equal(sidecar.task_id, r.taskId);
    assert.equal(sidecar.bytes, r.save!.bytes);
  }
}
