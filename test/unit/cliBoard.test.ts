// `wan-video board plan` and `board run` against the emulator over real HTTP: the plan and its bill without a
// key; a run makes each shot once and assembles the film beside the board; a second run finds the clips by the
// records beside them in --out, pays nothing and leaves the film as it is; an edited shot alone is planned again; a bad board sends nothing.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { EXIT } from '../../src/cli/exitCodes';
import { run } from '../../src/cli/main';
import { BOARD_VERSION, type Board } from '../../src/storyboard/board';
import { makeAudio, makeImage, tempDir } from '../support/fixtures';

const KEY = 'sk-cli-board';

describe('wan-video board', function () {
  this.timeout(300_000);
  let emu: RunningEmulator;
  let dir: string;
  let file: string;

  const board = (third: string): Board => ({
    version: BOARD_VERSION,
    settings: { resolution: '720P', watermark: false, promptExtend: false, soundtrack: 'music.mp3' },
    shots: [
      { id: 'one', prompt: 'a', duration: 2, start: { keyframe: 'a.png' }, end: { keyframe: 'b.png' } },
      { id: 'two', prompt: 'b', duration: 2, start: { keyframe: 'b.png' }, end: { keyframe: 'c.png' } },
      { id: 'three', prompt: third, duration: 2, start: { continue: true, overlap: 2 } },
    ],
  });
  const creates = () => emu.requests().filter((r) => r.route === 'create' && r.status === 200).length;

  async function cli(args: string[], env: NodeJS.ProcessEnv = { DASHSCOPE_API_KEY: KEY }): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await run(args, env, { out: (l) => (out += `${l}\n`), err: (l) => { err += `${l}\n`; if (process.env.WAN_DEBUG_BOARD) console.error(l); } }, new AbortController().signal, dir);
    return { code, out, err };
  }

  before(async () => {
    dir = await tempDir('cli-board');
    file = join(dir, 'teaser.wanboard.json');
    await Promise.all([
      makeImage(join(dir, 'a.png'), 320, 240, 'red'),
      makeImage(join(dir, 'b.png'), 320, 240, 'green'),
      makeImage(join(dir, 'c.png'), 320, 240, 'blue'),
      makeAudio(join(dir, 'music.mp3'), 8),
      writeFile(file, JSON.stringify(board('on'))),
    ]);
    emu = await startEmulator({ pendingMs: 100, runningMs: 300, apiKeys: [KEY], asGateway: true });
  });
  after(async () => emu?.close());

  it('plans without a key, runs to a film with 3 creates, pays nothing the second time, and plans only an edited shot again', async () => {
    const planned = await cli(['board', 'plan', 'teaser.wanboard.json', '--json'], {});
    assert.equal(planned.code, EXIT.ok, planned.err);
    const plan = JSON.parse(planned.out);
    assert.deepEqual(plan.sends, ['one', 'two', 'three']);
    assert.equal(plan.billed_seconds, 8);
    assert.match((await cli(['board', 'plan', 'teaser.wanboard.json'], {})).out, /Generate sends 3 shot\(s\), billed 8 s in all\./);

    const ran = await cli(['board', 'run', 'teaser.wanboard.json', '--out', 'clips', '--base-url', emu.url, '--poll-interval', '1', '--json']);
    assert.equal(ran.code, EXIT.ok, ran.err);
    const result = JSON.parse(ran.out);
    assert.equal(result.file, join(dir, 'teaser.mp4'));
    assert.equal(result.sent.length, 3);
    assert.equal(creates(), 3);
    const info = await inspectMedia(result.file);
    assert.ok(info.audio);
    assert.ok(Math.abs(info.durationSeconds! - 6) < 0.15, `film is ${info.durationSeconds} s`);

    // What a second run would send: nothing, the clips in --out are found by the records beside them.
    const again = await cli(['board', 'plan', 'teaser.wanboard.json', '--out', 'clips', '--json'], {});
    assert.equal(again.code, EXIT.ok, again.err);
    assert.deepEqual(JSON.parse(again.out).sends, []);
    assert.deepEqual(result.shots.map((s: { task_id: string }) => s.task_id).sort(), result.sent.map((s: { task_id: string }) => s.task_id).sort());
    assert.equal(result.up_to_date, false);

    // Run again with nothing changed: no create, and the film is not assembled again (its record lists these clips).
    const written = (await stat(result.file)).mtimeMs;
    const rerun = await cli(['board', 'run', 'teaser.wanboard.json', '--out', 'clips', '--base-url', emu.url, '--json']);
    assert.equal(rerun.code, EXIT.ok, rerun.err);
    assert.equal(JSON.parse(rerun.out).up_to_date, true);
    assert.deepEqual(JSON.parse(rerun.out).sent, []);
    assert.match(rerun.err, /teaser\.mp4 is up to date: nothing changed since it was assembled/);
    assert.equal((await stat(result.file)).mtimeMs, written);
    assert.equal(creates(), 3);

    await writeFile(file, JSON.stringify(board('the camera turns')));
    const edited = JSON.parse((await cli(['board', 'plan', 'teaser.wanboard.json', '--out', 'clips', '--json'], {})).out);
    assert.deepEqual(edited.shots.map((s: { state: string }) => s.state), ['made', 'made', 'outdated']);
    assert.deepEqual(edited.sends, ['three']);
  });

  it('a run against the emulator itself is a rehearsal: its clips serve the next rehearsal, and a paid endpoint makes every shot again', async () => {
    const rehearsal = await startEmulator({ pendingMs: 100, runningMs: 300 });
    try {
      await writeFile(join(dir, 'rehearse.wanboard.json'), JSON.stringify(board('rehearsed')));
      const ran = await cli(['board', 'run', 'rehearse.wanboard.json', '--out', 'rehearsals', '--base-url', rehearsal.url, '--poll-interval', '1', '--json']);
      assert.equal(ran.code, EXIT.ok, ran.err);
      assert.match(ran.err, /is the Wan Studio rehearsal emulator/);
      assert.equal(JSON.parse(ran.out).sent.length, 3);
      assert.equal(rehearsal.requests().filter((r) => r.route === 'create').length, 3);
      // The film was assembled from the rehearsal's clips: its next run there has nothing to send.
      const again = await cli(['board', 'plan', 'rehearse.wanboard.json', '--out', 'rehearsals', '--base-url', rehearsal.url, '--json'], {});
      assert.deepEqual(JSON.parse(again.out).sends, [], again.out);
      // Planned for a paid endpoint (the gateway stand-in), every shot is sent again, and the notes say why.
      const before = creates();
      const paid = await cli(['board', 'plan', 'rehearse.wanboard.json', '--out', 'rehearsals', '--base-url', emu.url, '--json'], {});
      const plan = JSON.parse(paid.out);
      assert.deepEqual(plan.sends, ['one', 'two', 'three']);
      assert.ok(plan.notes.some((n: string) => /one, two, three were only rehearsed/.test(n)), JSON.stringify(plan.notes));
      // Without an endpoint a plan is for a paid one too.
      assert.deepEqual(JSON.parse((await cli(['board', 'plan', 'rehearse.wanboard.json', '--out', 'rehearsals', '--json'], {})).out).sends, ['one', 'two', 'three']);
      assert.equal(creates(), before, 'a plan sends nothing');
    } finally {
      await rehearsal.close();
    }
  });

  it('refuses a bad board (duration out of range, JSON syntax, missing keyframe, a continuation first) with exit 2 and sends nothing', async () => {
    const bad = board('on');
    bad.shots[0]!.duration = 20;
    await writeFile(join(dir, 'bad.wanboard.json'), JSON.stringify(bad));
    const before = creates();
    const ran = await cli(['board', 'run', 'bad.wanboard.json', '--out', 'clips', '--base-url', emu.url]);
    assert.equal(ran.code, EXIT.invalidInput);
    assert.match(ran.err, /shots\[0\]\.duration: must be at most 15 seconds/);
    assert.equal(creates(), before);
    const planned = await cli(['board', 'plan', 'bad.wanboard.json'], {});
    assert.equal(planned.code, EXIT.invalidInput);
    assert.match(planned.out, /Nothing will be sent until this is fixed:\n {2}shots\[0\]\.duration: must be at most 15 seconds/);
    await writeFile(join(dir, 'broken.wanboard.json'), '{"version": 1,');
    const broken = await cli(['board', 'plan', 'broken.wanboard.json'], {});
    assert.equal(broken.code, EXIT.invalidInput);
    assert.match(broken.err, /line 1, column \d+: JSON syntax/);

    // The other bad boards of the issue, through `board run`: each named beside its shot, exit 2, no create.
    const missing = board('on');
    missing.shots[1]!.end = { keyframe: 'gone.png' };
    const orphan = board('on');
    orphan.shots.splice(0, 2);
    await Promise.all([writeFile(join(dir, 'missing.wanboard.json'), JSON.stringify(missing)), writeFile(join(dir, 'orphan.wanboard.json'), JSON.stringify(orphan))]);
    for (const [name, problem] of [
      ['broken', /line 1, column \d+: JSON syntax/],
      ['missing', /shots\[1\]\.end\.keyframe: gone\.png was not found/],
      ['orphan', /shots\[0\]\.start: continues the previous shot, but it is the first/],
    ] as const) {
      const refused = await cli(['board', 'run', `${name}.wanboard.json`, '--out', 'clips', '--base-url', emu.url, '--json']);
      assert.equal(refused.code, EXIT.invalidInput, `${name}: ${refused.err}`);
      assert.match(refused.err, problem);
    }
    assert.equal(creates(), before);
  });
});
