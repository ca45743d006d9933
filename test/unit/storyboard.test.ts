// Storyboards: the board file, the plan (order, dependency, outdating, billing, errors beside the shot) and
// the assembly of real clips with ffmpeg (a shared keyframe once, a continuation's overlap once, a soundtrack).
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspectMedia, runFfmpeg } from '../../src/ffmpeg/ffmpeg';
import { BOARD_VERSION, boardFromKeyframes, boardJsonSchema, describePath, parseBoard, type Board } from '../../src/storyboard/board';
import { planBoard, boardSources, type MadeClip, type PlanFacts, type SourceFact } from '../../src/storyboard/plan';
import { assembleFilm } from '../../src/storyboard/assemble';
import { assembleBoard } from '../../src/storyboard/film';
import { checkSources, shotInput } from '../../src/storyboard/prepare';
import { planJson, planText } from '../../src/storyboard/format';
import { probeAudio } from '../../src/wan/media';
import { ffmpeg, makeAudio, makeImage, makeVideo, tempDir } from '../support/fixtures';

function facts(opts: { sources?: Record<string, SourceFact>; made?: Record<string, MadeClip>; last?: Record<string, string>; running?: string[]; rehearsed?: string[]; upload?: boolean } = {}): PlanFacts {
  const sources = new Map<string, SourceFact>(Object.entries(opts.sources ?? { 'a.png': { key: 'A' }, 'b.png': { key: 'B' }, 'c.png': { key: 'C' } }));
  return {
    sources,
    made: (key) => opts.made?.[key],
    lastMadeKey: (id) => opts.last?.[id],
    inFlight: (key) => opts.running?.includes(key) ?? false,
    rehearsedOnly: (key) => opts.rehearsed?.includes(key) ?? false,
    rehearsalFrames: [],
    canUploadAudio: opts.upload ?? true,
  };
}

/** The board of the issue: keyframe 1 → 2, 2 → 3, and a continuation of shot 2. */
function threeShots(): Board {
  const board = boardFromKeyframes(['a.png', 'b.png', 'c.png']);
  board.shots.push({ id: 'shot-3', prompt: 'the camera keeps going', duration: 4, start: { continue: true } });
  return board;
}

describe('storyboard: the board file', () => {
  it('ships the JSON schema VS Code checks the raw file with, generated from the zod schema', async () => {
    // WAN_WRITE_BOARD_SCHEMA=1 rewrites it after a change to the board's schema.
    const path = join(__dirname, '../../../media/wanboard.schema.json');
    const expected = `${JSON.stringify(boardJsonSchema(), null, 2)}\n`;
    if (process.env.WAN_WRITE_BOARD_SCHEMA === '1') await writeFile(path, expected);
    assert.equal(await readFile(path, 'utf8'), expected, 'media/wanboard.schema.json is stale: run the unit tests with WAN_WRITE_BOARD_SCHEMA=1');
    const manifest = JSON.parse(await readFile(join(__dirname, '../../../package.json'), 'utf8'));
    assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: '*.wanboard.json', url: './media/wanboard.schema.json' }]);
  });

  it('reads a board and fills the defaults', () => {
    const parsed = parseBoard(JSON.stringify({ version: BOARD_VERSION, shots: [{ id: 's1', duration: 5, start: { keyframe: 'a.png' } }] }));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.board.settings, { resolution: '720P', watermark: false, promptExtend: true });
    assert.equal(parsed.board.shots[0]!.prompt, '');
  });

  it('names the line and column of a JSON syntax error', () => {
    const parsed = parseBoard('{\n  "version": 1,\n  "shots": [,]\n}');
    assert.ok(!parsed.ok);
    assert.equal(parsed.problems[0]!.line, 3);
    assert.match(parsed.problems[0]!.message, /^JSON syntax/);
  });

  it('puts each field problem beside its shot', () => {
    const parsed = parseBoard(
      JSON.stringify({ version: 1, shots: [{ id: 's1', duration: 2.5, start: { keyframe: 'a.png' } }, { id: 's1', duration: 3, start: { continue: true, overlap: 11 } }] }),
    );
    assert.ok(!parsed.ok);
    const where = parsed.problems.map((p) => `${describePath(p.path)}: ${p.message}`);
    assert.deepEqual(where.sort(), [
      'shots[0].duration: must be a whole number of seconds',
      'shots[1].id: "s1" is used by an earlier shot; ids must differ',
      'shots[1].start.overlap: must be at most 10 seconds',
    ]);
  });

  it('makes one shot between each pair of keyframes', () => {
    const board = boardFromKeyframes(['a.png', 'b.png', 'c.png']);
    assert.deepEqual(
      board.shots.map((s) => [s.start, s.end]),
      [
        [{ keyframe: 'a.png' }, { keyframe: 'b.png' }],
        [{ keyframe: 'b.png' }, { keyframe: 'c.png' }],
      ],
    );
    assert.deepEqual(boardSources(board), ['a.png', 'b.png', 'c.png']);
  });
});

describe('storyboard: the plan', () => {
  it('reads as the CLI prints it: each shot, what is sent and after what, the bill; or what stops it', () => {
    const board = threeShots();
    assert.equal(
      planText('film.wanboard.json', board, planBoard(board, facts())),
      [
        'film.wanboard.json: 3 shot(s), a 14 s film at 720P',
        '  1. shot-1: a.png → b.png, 5 s in the film; not made; sent, bills 5 s',
        '  2. shot-2: b.png → c.png, 5 s in the film; not made; sent, bills 5 s',
        '  3. shot-3: continues shot-2 (3 s overlap), 4 s in the film; not made; sent after shot-2, bills 7 s',
        'Generate sends 3 shot(s), billed 17 s in all.',
      ].join('\n'),
    );
    board.shots[0]!.duration = 20;
    const bad = planBoard(board, facts());
    assert.match(planText('film.wanboard.json', board, bad), /; has problems; not sent\n(.|\n)*Nothing will be sent until this is fixed:\n {2}shots\[0\]\.duration: must be at most 15 seconds$/);
    assert.deepEqual(planJson(bad).sends, []);
    assert.equal(planJson(bad).billed_seconds, 0);
  });

  it('sends every shot once, keyframe shots first, the continuation after the shot it continues, and bills the overlap', () => {
    const plan = planBoard(threeShots(), facts());
    assert.equal(plan.ready, true);
    assert.deepEqual(plan.sends, ['shot-1', 'shot-2', 'shot-3']);
    assert.deepEqual(plan.shots.map((s) => s.after), [undefined, undefined, 'shot-2']);
    // The continuation asks for its 3 s overlap plus 4 new seconds, and is billed for all 7.
    assert.deepEqual(plan.shots.map((s) => s.billedSeconds), [5, 5, 7]);
    assert.equal(plan.billedSeconds, 17);
    assert.equal(plan.filmSeconds, 14);
    assert.deepEqual(plan.shots[2]!.request?.firstClip, { shotId: 'shot-2', seconds: 3 });
    assert.deepEqual(plan.shots.map((s) => s.skip), [undefined, { frames: 1 }, { seconds: 3 }]);
  });

  it('pays nothing for a shot whose clip is already made, and lets its continuation start at once', () => {
    const first = planBoard(threeShots(), facts());
    const made = { [first.shots[1]!.key!]: { video: 'shot-2.mp4' } };
    const plan = planBoard(threeShots(), facts({ made, last: { 'shot-2': first.shots[1]!.key! } }));
    assert.deepEqual(plan.sends, ['shot-1', 'shot-3']);
    assert.equal(plan.shots[2]!.after, undefined);
    assert.equal(plan.billedSeconds, 12);
  });

  it('marks an edited shot outdated, and the continuation of an edited shot too, but not the others', () => {
    const before = planBoard(threeShots(), facts());
    const made = Object.fromEntries(before.shots.map((s) => [s.key!, { video: `${s.id}.mp4` }]));
    const last = Object.fromEntries(before.shots.map((s) => [s.id, s.key!]));
    assert.deepEqual(planBoard(threeShots(), facts({ made, last })).sends, []);

    const third = threeShots();
    third.shots[2]!.prompt = 'the camera turns left';
    const editedThird = planBoard(third, facts({ made, last }));
    assert.deepEqual(editedThird.shots.map((s) => s.state), ['made', 'made', 'outdated']);
    assert.deepEqual(editedThird.sends, ['shot-3']);
    assert.equal(editedThird.billedSeconds, 7);

    const second = threeShots();
    second.shots[1]!.duration = 6;
    assert.deepEqual(planBoard(second, facts({ made, last })).shots.map((s) => s.state), ['made', 'outdated', 'outdated']);

    // A changed keyframe file (new content, same name) outdates the shots that use it.
    const changed = facts({ made, last, sources: { 'a.png': { key: 'A' }, 'b.png': { key: 'B2' }, 'c.png': { key: 'C' } } });
    assert.deepEqual(planBoard(threeShots(), changed).shots.map((s) => s.state), ['outdated', 'outdated', 'outdated']);
  });

  it('does not send again a shot whose task is queued or running', () => {
    const first = planBoard(threeShots(), facts());
    const plan = planBoard(threeShots(), facts({ running: [first.shots[0]!.key!] }));
    assert.equal(plan.shots[0]!.state, 'in-flight');
    assert.deepEqual(plan.sends, ['shot-2', 'shot-3']);
  });

  it('refuses to send anything while a shot has a problem, and says which and where', () => {
    const board = threeShots();
    board.shots[0]!.duration = 16;
    board.shots.unshift({ id: 'opening', prompt: '', duration: 3, start: { continue: true } });
    board.shots[2]!.end = { keyframe: 'missing.png' };
    const plan = planBoard(board, facts({ sources: { 'a.png': { key: 'A' }, 'b.png': { key: 'B' }, 'c.png': { key: 'C' }, 'missing.png': { problem: 'missing.png was not found' } } }));
    assert.equal(plan.ready, false);
    assert.deepEqual(plan.sends, []);
    assert.equal(plan.billedSeconds, 0);
    const where = plan.shots.flatMap((s) => s.problems.map((p) => `${describePath(p.path)}: ${p.message}`));
    assert.deepEqual(where, [
      'shots[0].start: continues the previous shot, but it is the first: the API needs a first frame or a clip to start from; give it a keyframe',
      'shots[1].duration: must be at most 15 seconds',
      'shots[2].end.keyframe: missing.png was not found',
      'shots[3].start: continues shot shot-2, which has problems to fix first',
    ]);
  });

  it('keeps a continuation within the API: its overlap plus its seconds at most 15, and no longer than the shot before', () => {
    const board = threeShots();
    board.shots[2]!.duration = 13;
    board.shots[1]!.duration = 2;
    board.shots[2]!.start = { continue: true, overlap: 4 };
    const where = planBoard(board, facts()).shots[2]!.problems.map((p) => `${describePath(p.path)}: ${p.message}`);
    assert.deepEqual(where, [
      'shots[2].duration: must be at most 11 seconds: with the 4 s overlap the request would be 17 s (the limit is 15)',
      'shots[2].start.overlap: is 4 s but shot shot-2 makes only 2 s',
    ]);
  });

  it('slices the soundtrack under the keyframe shots, never for a continuation, and says when it cannot be sent', () => {
    const board = threeShots();
    board.settings.soundtrack = 'music.mp3';
    const sources = { 'a.png': { key: 'A' }, 'b.png': { key: 'B' }, 'c.png': { key: 'C' }, 'music.mp3': { key: 'M', seconds: 8 } };
    const plan = planBoard(board, facts({ sources }));
    assert.deepEqual(plan.shots.map((s) => s.request?.drivingAudio), [
      { source: 'music.mp3', from: 0, seconds: 5 },
      { source: 'music.mp3', from: 5, seconds: 3 },
      undefined,
    ]);
    const noUpload = planBoard(board, facts({ sources, upload: false }));
    assert.ok(noUpload.shots.every((s) => !s.request?.drivingAudio));
    assert.match(noUpload.notes[0]!, /no temporary upload/);
    assert.equal(noUpload.ready, true);
  });
});

// ---- The assembly, on real clips: each frame is one flat colour, so the film's frames can be counted. ----

const FPS = 24;
type Colour = 'red' | 'green' | 'blue' | 'yellow';

/** An MP4 of flat-colour runs ([colour, frames]...), with a tone, 64x48 at 24 fps. */
async function colourClip(path: string, runs: [Colour, number][]): Promise<string> {
  const inputs = runs.map(([c, frames], i) => `color=c=${c}:s=64x48:r=${FPS},trim=end_frame=${frames}[c${i}]`).join(';');
  const join = `${runs.map((_, i) => `[c${i}]`).join('')}concat=n=${runs.length}:v=1:a=0[v]`;
  const frames = runs.reduce((s, [, f]) => s + f, 0);
  await ffmpeg([
    '-f', 'lavfi', '-i', `sine=f=330:d=${frames / FPS}`,
    '-filter_complex', `${inputs};${join}`, '-map', '[v]', '-map', '0:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path,
  ]);
  return path;
}

/** The film's frames, each named by its dominant colour. */
async function framesOf(path: string, dir: string): Promise<Colour[]> {
  const raw = join(dir, 'frames.rgb');
  await ffmpeg(['-i', path, '-vf', 'scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', raw]);
  const bytes = await readFile(raw);
  const out: Colour[] = [];
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const [r, g] = [bytes[i]!, bytes[i + 1]!];
    out.push(r > 150 && g > 150 ? 'yellow' : r > 150 ? 'red' : g > 100 ? 'green' : 'blue');
  }
  return out;
}

function runsOf(frames: Colour[]): [Colour, number][] {
  const runs: [Colour, number][] = [];
  for (const f of frames) {
    const last = runs[runs.length - 1];
    if (last && last[0] === f) last[1]++;
    else runs.push([f, 1]);
  }
  return runs;
}

describe('storyboard: assembling real clips', function () {
  this.timeout(120_000);
  let dir: string;
  let shot1: string;
  let shot2: string;
  let shot3: string;

  before(async () => {
    dir = await tempDir('board');
    // Shot 1 ends on the red keyframe that shot 2 starts from; shot 3 continues shot 2 with a 1 s overlap
    // (its first 24 frames repeat shot 2's last 24), then adds yellow.
    [shot1, shot2, shot3] = await Promise.all([
      colourClip(join(dir, 'shot-1.mp4'), [['blue', 47], ['red', 1]]),
      colourClip(join(dir, 'shot-2.mp4'), [['red', 1], ['green', 47]]),
      colourClip(join(dir, 'shot-3.mp4'), [['green', 24], ['yellow', 48]]),
    ]);
  });

  it('joins the shots in order with the shared keyframe once and the overlap once, with their sound', async () => {
    const out = join(dir, 'film.mp4');
    const layout = await assembleFilm(
      [
        { video: shot1, skip: undefined },
        { video: shot2, skip: { frames: 1 } },
        { video: shot3, skip: { seconds: 1 } },
      ],
      out,
    );
    assert.deepEqual(runsOf(await framesOf(out, dir)), [['blue', 47], ['red', 1], ['green', 47], ['yellow', 48]]);
    const info = await inspectMedia(out);
    assert.ok(info.audio, 'the film keeps the clips’ sound');
    // The container's length also counts the AAC encoder's last frame: within a tenth of a second.
    assert.ok(Math.abs(info.durationSeconds! - 143 / FPS) < 0.1, `film is ${info.durationSeconds} s, expected ${143 / FPS}`);
    assert.ok(Math.abs(layout.seconds - 143 / FPS) < 0.01);
  });

  it('lays the soundtrack under the whole film, padded with silence when it is shorter', async () => {
    const music = await makeAudio(join(dir, 'music.mp3'), 3);
    const out = join(dir, 'scored.mp4');
    await assembleFilm([{ video: shot1, skip: undefined }, { video: shot2, skip: { frames: 1 } }], out, { soundtrack: music });
    const info = await inspectMedia(out);
    assert.equal(info.audio?.codec, 'aac');
    assert.equal((await framesOf(out, dir)).length, 95);
    assert.ok(Math.abs(info.durationSeconds! - 95 / FPS) < 0.1, `film is ${info.durationSeconds} s, expected ${95 / FPS}`);
  });

  it('lays a soundtrack given as a URL under the film (fetched first), and says plainly when it cannot be fetched', async () => {
    const served = await readFile(await makeAudio(join(dir, 'served.mp3'), 1));
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/music.mp3' ? 200 : 404, { 'content-type': 'audio/mpeg' });
      res.end(req.url === '/music.mp3' ? served : undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/music.mp3`;
      const board = boardFromKeyframes(['a.png', 'b.png', 'c.png']);
      board.shots.forEach((s) => (s.duration = 2));
      board.settings.soundtrack = url;
      const sources = { 'a.png': { key: 'A' }, 'b.png': { key: 'B' }, 'c.png': { key: 'C' }, [url]: { key: `url:${url}` } };
      // The plan with both shots made (their keys include the soundtrack's first slice).
      const madePlan = (sources: Record<string, SourceFact>) => {
        const [one, two] = planBoard(board, facts({ sources })).shots.map((s) => s.key!);
        return planBoard(board, facts({ sources, made: { [one!]: { video: shot1 }, [two!]: { video: shot2 } } }));
      };
      const plan = madePlan(sources);
      const film = await assembleBoard(board, plan, join(dir, 'url.wanboard.json'));
      assert.equal(film.note, undefined);
      assert.equal(JSON.parse(await readFile(film.record, 'utf8')).soundtrack, url);
      // The clips sound all along; the 1 s soundtrack, padded with silence, is silent from 1 s on.
      const { stderr } = await runFfmpeg(['-i', film.video, '-af', 'silencedetect=n=-50dB:d=0.5', '-f', 'null', '-'], { timeoutMs: 60_000 });
      const silence = Number(/silence_start: ([\d.]+)/.exec(stderr)?.[1]);
      assert.ok(Math.abs(silence - 1) < 0.1, `the film is silent from ${silence} s`);

      board.settings.soundtrack = url.replace('music.mp3', 'gone.mp3');
      const gone = madePlan({ ...sources, [board.settings.soundtrack]: { key: 'url:gone' } });
      await assert.rejects(assembleBoard(board, gone, join(dir, 'gone.wanboard.json')), /the soundtrack http:\/\/127\.0\.0\.1:\d+\/gone\.mp3 could not be laid under the film: the download answered HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('stops when canceled and says so', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(assembleFilm([{ video: shot1, skip: undefined }], join(dir, 'canceled.mp4'), { signal: controller.signal }), /canceled/);
  });
});

describe('storyboard: checking sources and preparing a shot', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await tempDir('board-prepare');
    await Promise.all([
      makeImage(join(dir, 'a.png'), 320, 240, 'red'),
      makeImage(join(dir, 'tiny.png'), 100, 100),
      makeAudio(join(dir, 'music.mp3'), 6),
      makeVideo(join(dir, 'shot-1.mp4'), 4),
    ]);
    await copyFile(join(dir, 'a.png'), join(dir, 'renamed.png'));
  });

  it('knows a keyframe by its content, and puts a missing or refused file beside the shot that uses it', async () => {
    const board = boardFromKeyframes(['a.png', 'renamed.png', 'tiny.png', 'gone.png']);
    board.settings.soundtrack = 'music.mp3';
    const sources = await checkSources(board, dir);
    const key = (s: string) => (sources.get(s) as { key: string }).key;
    assert.equal(key('a.png'), key('renamed.png'));
    assert.match((sources.get('tiny.png') as { problem: string }).problem, /240/);
    assert.match((sources.get('gone.png') as { problem: string }).problem, /^gone\.png was not found \(.*gone\.png\)$/);
    assert.ok(Math.abs((sources.get('music.mp3') as { seconds: number }).seconds - 6) < 0.1);
    const plan = planBoard(board, { ...facts(), sources });
    assert.equal(plan.ready, false);
    assert.deepEqual(plan.shots.map((s) => s.problems.map((p) => describePath(p.path))), [[], ['shots[1].end.keyframe'], ['shots[2].start.keyframe', 'shots[2].end.keyframe']]);
  });

  it('cuts the continuation’s clip from the end of the shot before, and the soundtrack’s slice', async () => {
    const input = await shotInput(
      'shot-2',
      { prompt: 'on', resolution: '720P', watermark: false, promptExtend: true, duration: 7, firstClip: { shotId: 'shot-1', seconds: 3 }, drivingAudio: { source: 'music.mp3', from: 2, seconds: 3 } },
      { boardDir: dir, workDir: join(dir, 'work'), clipOf: (id) => (id === 'shot-1' ? join(dir, 'shot-1.mp4') : undefined) },
    );
    assert.equal(input.duration, 7);
    const clip = await inspectMedia(input.firstClip!);
    assert.ok(Math.abs(clip.durationSeconds! - 3) < 0.15, `clip is ${clip.durationSeconds} s`);
    const audio = await probeAudio(await readFile(input.drivingAudio!));
    assert.ok(audio && Math.abs(audio.durationSeconds - 3) < 0.05, `slice is ${audio?.durationSeconds} s`);
    await assert.rejects(
      shotInput('shot-3', { prompt: '', resolution: '720P', watermark: false, promptExtend: true, duration: 5, firstClip: { shotId: 'shot-2', seconds: 2 } }, { boardDir: dir, workDir: join(dir, 'work'), clipOf: () => undefined }),
      /shot shot-2 has no clip yet: shot shot-3 continues it/,
    );
  });
});
