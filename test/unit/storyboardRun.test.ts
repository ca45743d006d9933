// Running a storyboard on the real task engine against the emulator over real HTTP: the plan's sends become
// tasks linked to their shots (in the task list and in the record beside each saved video), a continuation
// waits for the clip it continues, the film is assembled beside the board, and a made clip is found again by
// its content from the records beside the videos alone (after Clear Finished or in a new window).
import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { BOARD_VERSION, type Board } from '../../src/storyboard/board';
import { readAndPlan, type BoardReading } from '../../src/storyboard/facts';
import { FILM_FORMAT, assembleBoard } from '../../src/storyboard/film';
import { BoardNotReady, runBoard, type RunDeps } from '../../src/storyboard/run';
import { TaskEngine } from '../../src/tasks/engine';
import { TaskStore } from '../../src/tasks/store';
import { recordOfSidecar, parseSidecar } from '../../src/tasks/sidecar';
import { WanClient, fixedSchedule } from '../../src/wan';
import { makeAudio, makeImage, tempDir } from '../support/fixtures';
import { until } from '../support/waiting';

const KEY = 'sk-board-run-test';

/** Every file under `dir` (none when it is gone). */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('storyboard: running a board on the task engine', function () {
  this.timeout(120_000);
  let emu: RunningEmulator;
  let dir: string;
  let out: string;
  let boardPath: string;
  let store: TaskStore;
  let engine: TaskEngine;

  const board = (thirdPrompt: string): Board => ({
    version: BOARD_VERSION,
    settings: { resolution: '720P', watermark: false, promptExtend: false, soundtrack: 'music.mp3' },
    shots: [
      { id: 'shot-1', prompt: 'red to green', duration: 2, start: { keyframe: 'a.png' }, end: { keyframe: 'b.png' } },
      { id: 'shot-2', prompt: 'green to blue', duration: 2, start: { keyframe: 'b.png' }, end: { keyframe: 'c.png' } },
      { id: 'shot-3', prompt: thirdPrompt, duration: 2, start: { continue: true, overlap: 2 } },
    ],
  });
  const creates = () => emu.requests().filter((r) => r.route === 'create' && r.status === 200).length;
  /** Where the engine sends: the emulator as itself, or (the last test) as a paid gateway would be. */
  let paidGateway = false;
  const endpoint = () => (paidGateway ? { kind: 'custom' as const, baseUrl: emu.url } : { kind: 'emulator' as const, baseUrl: emu.url });

  const events: string[] = [];
  const clipSeconds: number[] = [];
  const deps: RunDeps = {
    progress: (e) => events.push(`${e.phase} ${e.shotId}`),
    submit: async (input, shot) => {
      // The continuation's first clip, measured while it is there (it is removed once its task has ended).
      if (input.firstClip) clipSeconds.push((await inspectMedia(input.firstClip)).durationSeconds!);
      return (await engine.submit(input, { endpoint: endpoint(), outputFolder: out, shot })).id;
    },
    waitForVideo: async (id) => {
      const r = await until(`task ${id} saved`, () => {
        const t = store.get(id);
        return (t?.save?.state === 'saved' && !t.save.pendingRecord) || t?.state === 'failed' || t?.state === 'canceled' ? t : undefined;
      }, 60_000, 50);
      if (r.save?.state !== 'saved') throw new Error(`task ${id} ended ${r.state}`);
      return { video: r.save.file!, taskId: r.taskId };
    },
  };

  /** The plan of a board sent to the emulator (`rehearsal`, as every test's until the last) or to a paid endpoint. */
  async function plan(b: Board, records = store.all(), rehearsal = true): Promise<Extract<BoardReading, { ok: true }>> {
    const reading = await readAndPlan(JSON.stringify(b), boardPath, { records, folders: [out], canUploadAudio: true, rehearsal });
    assert.ok(reading.ok, JSON.stringify(!reading.ok && reading.problems));
    return reading;
  }

  const run = (r: Extract<BoardReading, { ok: true }>) => runBoard(r.plan, r.facts, deps, { boardPath, boardDir: dir, workDir: join(dir, '.work') });

  before(async () => {
    dir = await tempDir('board-run');
    out = join(dir, 'videos');
    boardPath = join(dir, 'film.wanboard.json');
    await Promise.all([
      makeImage(join(dir, 'a.png'), 320, 240, 'red'),
      makeImage(join(dir, 'b.png'), 320, 240, 'green'),
      makeImage(join(dir, 'c.png'), 320, 240, 'blue'),
      makeAudio(join(dir, 'music.mp3'), 8),
    ]);
    emu = await startEmulator({ pendingMs: 100, runningMs: 300, apiKeys: [KEY] });
    store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 3000 });
    await store.load();
    engine = new TaskEngine({
      store,
      connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY, retry: { baseDelayMs: 20 } }), endpoint: endpoint() }),
      schedule: fixedSchedule(100),
      log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
    }, {});
    engine.start();
  });
  after(async () => {
    await engine?.stop();
    await emu?.close();
  });

  it('sends nothing for a board with a problem', async () => {
    const bad = board('on');
    bad.shots[1]!.end = { keyframe: 'missing.png' };
    const reading = await readAndPlan(JSON.stringify(bad), boardPath, { records: [], folders: [out], canUploadAudio: true, rehearsal: true });
    assert.ok(reading.ok);
    await assert.rejects(run(reading), (e: unknown) => e instanceof BoardNotReady && /shots\[1\]\.end\.keyframe: missing\.png was not found/.test(e.message));
    assert.equal(creates(), 0);
  });

  it('makes every shot once, the continuation after its clip, links each task to its shot and assembles the film', async () => {
    const first = await plan(board('the camera keeps going'));
    assert.deepEqual(first.plan.sends, ['shot-1', 'shot-2', 'shot-3']);
    assert.equal(first.plan.billedSeconds, 8);
    const result = await run(first);
    assert.deepEqual(result.failed, []);
    assert.equal(creates(), 3);
    // The continuation was sent only once shot 2's clip was saved: its first clip is the end of that clip.
    assert.deepEqual(events.slice(0, 2).sort(), ['queued shot-1', 'queued shot-2']);
    assert.ok(events.indexOf('queued shot-3') > events.indexOf('made shot-2'), events.join(', '));
    const third = store.get(result.sent.find((s) => s.shotId === 'shot-3')!.taskId)!;
    assert.deepEqual(clipSeconds.map((s) => Math.abs(s - 2) < 0.15), [true]);
    assert.equal(third.request.firstClip?.startsWith(join(dir, '.work')), true);
    // Each task has ended: the continuation's cut clip and the soundtrack's slices are gone, the sources kept.
    assert.deepEqual(await filesIn(join(dir, '.work')), []);
    assert.ok((await stat(join(dir, 'music.mp3'))).isFile());
    assert.deepEqual(third.shot, { board: boardPath, shotId: 'shot-3', key: first.plan.shots[2]!.key });
    // The record beside the saved video names the shot too, and a task list rebuilt from it keeps the link.
    const sidecar = parseSidecar(await readFile(third.save!.file!.replace(/\.mp4$/, '.json'), 'utf8'))!;
    assert.deepEqual(sidecar.shot, third.shot);
    assert.deepEqual(recordOfSidecar(sidecar, { file: third.save!.file!, bytes: 1, hasRecord: true }, 'x', Date.now()).shot, third.shot);

    const made = await plan(board('the camera keeps going'));
    assert.deepEqual(made.plan.shots.map((s) => s.state), ['made', 'made', 'made']);
    const film = await assembleBoard(made.board, made.plan, boardPath);
    assert.equal(film.video, join(dir, 'film.mp4'));
    const info = await inspectMedia(film.video);
    assert.ok(info.audio, 'the soundtrack is under the film');
    assert.ok(Math.abs(info.durationSeconds! - made.plan.filmSeconds) < 0.15, `film is ${info.durationSeconds} s, the plan says ${made.plan.filmSeconds}`);
    const record = JSON.parse(await readFile(film.record, 'utf8'));
    assert.equal(record.format, FILM_FORMAT);
    assert.deepEqual(record.shots.map((s: { task_id: string }) => s.task_id), made.plan.shots.map((s) => s.made!.taskId));
    assert.equal(new Set(record.shots.map((s: { task_id: string }) => s.task_id)).size, 3);
  });

  it('finds the made clips by content from the records beside the videos alone, and pays only for an edited shot', async () => {
    // No task list at all (Clear Finished, another window, the CLI): the records beside the videos tell.
    const cleared = await plan(board('the camera keeps going'), []);
    assert.deepEqual(cleared.plan.shots.map((s) => s.state), ['made', 'made', 'made']);
    assert.deepEqual(cleared.plan.sends, []);

    const edited = await plan(board('the camera turns left'), []);
    assert.deepEqual(edited.plan.shots.map((s) => s.state), ['made', 'made', 'outdated']);
    assert.deepEqual(edited.plan.sends, ['shot-3']);
    // A create refused before it is queued (a spend cap, no folder): the cut clip goes with it.
    const refused = await runBoard(edited.plan, edited.facts, { ...deps, submit: () => Promise.reject(new Error('over the daily cap')) }, { boardPath, boardDir: dir, workDir: join(dir, '.work') });
    assert.deepEqual(refused.failed, [{ shotId: 'shot-3', error: 'over the daily cap' }]);
    assert.deepEqual(await filesIn(join(dir, '.work')), []);
    const before = creates();
    const result = await run(edited);
    assert.deepEqual(result.failed, []);
    assert.equal(creates() - before, 1);
    await writeFile(boardPath, JSON.stringify(board('the camera turns left')));
    const again = await plan(board('the camera turns left'));
    assert.deepEqual(again.plan.shots.map((s) => s.state), ['made', 'made', 'made']);
    const film = await assembleBoard(again.board, again.plan, boardPath);
    assert.equal(film.upToDate, false, 'the film listed the edited shot\'s earlier clip: assembled again');
    assert.ok(Math.abs((await inspectMedia(film.video)).durationSeconds! - again.plan.filmSeconds) < 0.15);
    // Nothing changed since: the film's record lists exactly these shots' tasks and clips, so ffmpeg is not run again.
    const written = (await stat(film.video)).mtimeMs;
    const same = await assembleBoard(again.board, again.plan, boardPath);
    assert.equal(same.upToDate, true);
    assert.equal(same.seconds, film.seconds);
    assert.equal((await stat(film.video)).mtimeMs, written);
  });

  it('a rehearsed board sent to a paid endpoint is made there: its rehearsal clips are not the film, and the plan says so', async () => {
    // Failed on the old code: every shot read "made" from the rehearsal, Generate sent nothing and Assemble
    // would have joined the emulator's clips.
    const b = board('the camera turns left');
    for (const records of [store.all(), []]) {
      const paid = await plan(b, records, false);
      assert.deepEqual(paid.plan.shots.map((s) => s.state), ['not-made', 'not-made', 'not-made'], records.length ? 'from the task list' : 'from the records beside the videos');
      assert.deepEqual(paid.plan.sends, ['shot-1', 'shot-2', 'shot-3']);
      assert.equal(paid.plan.billedSeconds, 8);
      assert.match(paid.plan.notes.join('\n'), /shot-1, shot-2, shot-3 were only rehearsed: the emulator's clips are not the film/);
    }
    // A keyframe taken from a rehearsal's clip ("Use This Frame" names it after the clip, beside it) is said too.
    const clip = store.all().find((r) => r.save?.file)!.save!.file!;
    const frame = clip.replace(/\.mp4$/, '-frame-00m01s000.png');
    await copyFile(join(dir, 'a.png'), frame);
    const fromFrame = board('the camera turns left');
    fromFrame.shots[0]!.start = { keyframe: relative(dir, frame) };
    assert.match((await plan(fromFrame, [], false)).plan.notes.join('\n'), /-frame-00m01s000\.png is a frame of a rehearsal's video \(the emulator's, stamped REHEARSAL\)/);
    assert.ok(!(await plan(fromFrame, [], true)).plan.notes.some((n) => /frame of a rehearsal/.test(n)), 'a rehearsal may animate its own frames');
    await rm(frame);

    // Made on a paid endpoint (a gateway, answered here by the emulator): three creates, then made on both.
    paidGateway = true;
    const before = creates();
    const result = await run(await plan(b, store.all(), false));
    assert.deepEqual(result.failed, []);
    assert.equal(creates() - before, 3);
    for (const rehearsal of [false, true]) {
      const now = await plan(b, [], rehearsal);
      assert.deepEqual(now.plan.shots.map((s) => s.state), ['made', 'made', 'made'], rehearsal ? 'a paid clip is good enough for a rehearsal' : 'paid');
      assert.ok(!now.plan.notes.some((n) => /rehearsed/.test(n)), now.plan.notes.join('\n'));
    }
    const film = (await plan(b, [], false)).plan.shots.map((s) => s.made!.taskId);
    assert.deepEqual(film.sort(), result.sent.map((s) => store.get(s.taskId)!.taskId).sort(), 'the film is made of the paid clips');
  });
});
