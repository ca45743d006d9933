// The wan-video CLI (the bundled dist/cli.js) against the emulator: every media combination produces a
// playable MP4, and every invalid combination or limit is refused before anything is sent.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server';
import { inspectMedia } from '../../src/ffmpeg/ffmpeg';
import { EXIT } from '../../src/cli/exitCodes';
import { run as runInProcess } from '../../src/cli/main';
import { SIDECAR_FORMAT } from '../../src/tasks/sidecar';
import { WanClient, prepareRequest } from '../../src/wan';
import { ffmpeg, makeAlphaPng, makeAudio, makeImage, makeInputSet, makeVideo, tempDir } from '../support/fixtures';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const KEY = 'sk-test-cli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = { DASHSCOPE_API_KEY: KEY }, timeoutMs = 120_000): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

interface Spawned extends Run {
  signal: NodeJS.Signals | null;
}

/**
 * Spawns the CLI with piped stdio and lets the test act on it (close a pipe, send a signal) as its
 * stderr arrives. A closed pipe is never read again: its output so far stays in the result.
 */
function spawnCli(args: string[], act: (child: ReturnType<typeof spawn>, stderr: string) => void, env: NodeJS.ProcessEnv = { DASHSCOPE_API_KEY: KEY }): Promise<Spawned> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    act(child, stderr);
  });
  act(child, '');
  return new Promise((done) => child.on('close', (code, signal) => done({ code: code ?? -1, signal, stdout, stderr })));
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs the CLI in this process, where a test may shorten the outage policy's waits. */
async function cliInProcess(args: string[], options: object, env: NodeJS.ProcessEnv = { DASHSCOPE_API_KEY: KEY }): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const code = await (runInProcess as (...a: unknown[]) => Promise<number>)(args, env, io, new AbortController().signal, process.cwd(), options);
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.join('\n') };
}

/** The one JSON object --json prints on stdout, whatever the outcome. */
function jsonOf(run: Run): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout, got: ${run.stdout}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** The lookup after a lost create answer, on the emulator's short task times. */
const QUICK_LOOKUP = { intervalMs: 200, windowMs: 1500, maxMs: 4000 };

describe('wan-video CLI', function () {
  let emu: RunningEmulator;
  let dir: string;
  let inputs: Awaited<ReturnType<typeof makeInputSet>>;
  let base: string[];

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
    dir = await tempDir('cli');
    inputs = await makeInputSet(dir);
    emu = await startEmulator({ pendingMs: 100, runningMs: 300, apiKeys: [KEY], asGateway: true });
    base = ['--base-url', emu.url, '--poll-interval', '1', '--out', join(dir, 'out'), '--resolution', '720P'];
  });
  after(async () => emu?.close());

  const combinations: [string, () => string[], number][] = [
    ['first_frame', () => ['--first-frame', inputs.firstFrame], 2],
    ['first_frame + driving_audio', () => ['--first-frame', inputs.firstFrame, '--audio', inputs.audio], 3],
    ['first_frame + last_frame', () => ['--first-frame', inputs.firstFrame, '--last-frame', inputs.lastFrame], 3],
    ['first_frame + last_frame + driving_audio', () => ['--first-frame', inputs.firstFrame, '--last-frame', inputs.lastFrame, '--audio', inputs.audio], 2],
    ['first_clip', () => ['--clip', inputs.clip], 5],
    ['first_clip + last_frame', () => ['--clip', inputs.clip, '--last-frame', inputs.lastFrame], 4],
  ];
  for (const [name, args, duration] of combinations) {
    it(`generates a playable MP4 for ${name}`, async () => {
      const run = await cli(['generate', ...args(), ...base, '--duration', String(duration), '--prompt', 'a slow zoom', '--seed', '7']);
      assert.equal(run.code, EXIT.ok, run.stderr);
      const file = run.stdout.trim();
      assert.match(file, /wan-[A-Za-z0-9-]+\.mp4$/);
      assert.match(run.stderr, /SUCCEEDED/);
      const info = await inspectMedia(file);
      assert.equal(info.video?.codec, 'h264');
      assert.deepEqual([info.video?.width, info.video?.height], [816, 1104], 'the FAQ size for a 3:4 input at 720P');
      assert.ok(Math.abs((info.durationSeconds ?? 0) - duration) < 0.2, `duration ${info.durationSeconds} vs ${duration}`);
      if (name.includes('audio')) assert.ok(info.audio, 'the driving audio is in the result');
      assert.doesNotMatch(run.stderr, /stamped REHEARSAL/, 'no record beside an input says so');
    });
  }

  it('notes a clip the extension rehearsed, or a frame of one (the record beside the video says so), before sending it', async () => {
    const rehearsed = join(dir, 'rehearsed-clip.mp4');
    await copyFile(inputs.clip, rehearsed);
    await writeFile(join(dir, 'rehearsed-clip.json'), JSON.stringify({ format: SIDECAR_FORMAT, task_id: 'rehearsed-task', rehearsal: true, endpoint: 'emulator', file: 'rehearsed-clip.mp4' }));
    const run = await cli(['generate', '--clip', rehearsed, ...base, '--duration', '5', '--prompt', 'on it goes']);
    assert.equal(run.code, EXIT.ok, run.stderr);
    assert.match(run.stderr, /Note: .*rehearsed-clip\.mp4 is a rehearsal video \(the emulator made it, stamped REHEARSAL, not the Wan model\); a paid endpoint bills this request/);
    // A frame the player took from it, named after it: a first frame made of the stand-in.
    const frame = join(dir, 'rehearsed-clip-frame-00m02s000.png');
    await copyFile(inputs.firstFrame, frame);
    const framed = await cli(['generate', '--first-frame', frame, ...base, '--duration', '2', '--prompt', 'from the frame']);
    assert.equal(framed.code, EXIT.ok, framed.stderr);
    assert.match(framed.stderr, /Note: .*rehearsed-clip-frame-00m02s000\.png is a frame of a rehearsal video/);
  });

  it('against the emulator itself (it says so on loopback) a run is a rehearsal: said, recorded as one, never spend, and no "paid" note', async function () {
    this.timeout(120_000); // two runs of the CLI
    const rehearsal = await startEmulator({ pendingMs: 100, runningMs: 300 });
    try {
      const out = join(await tempDir('cli-rehearsal'), 'videos');
      // The frame of a rehearsal's clip: worth a note before a paid request, not before another rehearsal.
      const frame = join(dir, 'rehearsed-clip-frame-00m01s000.png');
      await copyFile(inputs.firstFrame, frame);
      await writeFile(join(dir, 'rehearsed-clip.json'), JSON.stringify({ format: SIDECAR_FORMAT, task_id: 'rehearsed-task', rehearsal: true, endpoint: 'emulator', file: 'rehearsed-clip.mp4' }));
      const made = await cli(['generate', '--first-frame', frame, '--base-url', rehearsal.url, '--poll-interval', '1', '--out', out, '--duration', '2', '--prompt', 'a rehearsal', '--json']);
      assert.equal(made.code, EXIT.ok, made.stderr);
      assert.match(made.stderr, new RegExp(`${rehearsal.url.replace(/[.]/g, '\\.')} is the Wan Studio rehearsal emulator: its videos are stand-ins stamped REHEARSAL`));
      assert.doesNotMatch(made.stderr, /a paid endpoint bills this request/);
      const result = JSON.parse(made.stdout) as { file: string; rehearsal: boolean };
      assert.equal(result.rehearsal, true);
      const record = JSON.parse(await readFile(result.file.replace(/\.mp4$/, '.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(record.rehearsal, true);
      assert.equal(record.endpoint, 'emulator');
      // The paid stand-in (a gateway: no emulator header) makes one more video in the same folder: only that one is spend.
      const paid = await cli(['generate', '--first-frame', inputs.firstFrame, '--base-url', emu.url, '--poll-interval', '1', '--out', out, '--duration', '2', '--json']);
      assert.equal(paid.code, EXIT.ok, paid.stderr);
      assert.equal((JSON.parse(paid.stdout) as { rehearsal: boolean }).rehearsal, false);
      assert.doesNotMatch(paid.stderr, /rehearsal emulator/);
      const json = jsonOf(await cli(['list', '--base-url', emu.url, '--since', '10m', '--spend', out, '--json']));
      assert.deepEqual(json.spend, { today: 2, month: 2, all: 2, records: 2 });
      assert.equal(rehearsal.requests().filter((r) => r.route === 'create').length, 1, 'the paid run sent nothing to the rehearsal');
    } finally {
      await rehearsal.close();
    }
  });

  it('wait on a task already saved keeps the video and the record its first run wrote (the prompt, the seed, the parameters)', async function () {
    // Failed on the old code: `wait` knows nothing of the request, and wrote its empty record over the first one.
    this.timeout(120_000);
    const out = join(await tempDir('cli-wait-saved'), 'videos');
    const made = await cli(['generate', '--first-frame', inputs.firstFrame, '--base-url', emu.url, '--poll-interval', '1', '--out', out, '--resolution', '720P', '--duration', '2', '--prompt', 'kept as made', '--seed', '7', '--json']);
    assert.equal(made.code, EXIT.ok, made.stderr);
    const { task_id: taskId, file } = JSON.parse(made.stdout) as { task_id: string; file: string };
    const recordPath = file.replace(/\.mp4$/, '.json');
    const before = await readFile(recordPath, 'utf8');
    const waited = await cli(['wait', taskId, '--base-url', emu.url, '--out', out, '--poll-interval', '1', '--json']);
    assert.equal(waited.code, EXIT.ok, waited.stderr);
    assert.equal((JSON.parse(waited.stdout) as { kept_existing: boolean }).kept_existing, true);
    assert.match(waited.stderr, /was already saved in full \(\d+ bytes\): kept it, and its record\./);
    assert.equal(await readFile(recordPath, 'utf8'), before);
    const record = JSON.parse(before) as { prompt: string; seed: number; parameters: object };
    assert.deepEqual([record.prompt, record.seed, record.parameters], ['kept as made', 7, { resolution: '720P', duration: 2 }]);
  });

  it('--version and -v print the package version, without a key; --json wraps it', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const run = await cli([flag], {});
      assert.equal(run.code, EXIT.ok, run.stderr);
      assert.equal(run.stdout.trim(), version);
    }
    const json = await cli(['--version', '--json'], {});
    assert.deepEqual(JSON.parse(json.stdout), { exit_code: EXIT.ok, version });
    const help = await cli(['--help'], {});
    assert.equal(help.code, EXIT.ok);
    assert.match(help.stdout, /wan-video --version \| --help/);
  });

  it('prints JSON with usage when asked', async () => {
    const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
    assert.equal(run.code, EXIT.ok, run.stderr);
    const result = JSON.parse(run.stdout) as { file: string; usage: { duration: number; SR: number }; output_size: object };
    assert.deepEqual([result.usage.duration, result.usage.SR], [2, 720]);
    assert.deepEqual(result.output_size, { width: 816, height: 1104 });
  });

  it('writes the record beside each video it saves, as the extension does, and list --spend totals their usage (rehearsals never count)', async function () {
    this.timeout(180_000); // three runs of the CLI
    const out = join(await tempDir('cli-records'), 'videos');
    const made = await cli(['generate', '--first-frame', inputs.firstFrame, ...base.slice(0, -4), '--out', out, '--resolution', '720P', '--duration', '2', '--prompt', 'a slow zoom', '--seed', '7']);
    assert.equal(made.code, EXIT.ok, made.stderr);
    const video = made.stdout.trim();
    const record = JSON.parse(await readFile(video.replace(/\.mp4$/, '.json'), 'utf8')) as Record<string, unknown>;
    const taskId = /wan-([^/]+)\.mp4$/.exec(video)![1];
    assert.equal(record.format, 'wan-studio.video/1');
    assert.equal(record.task_id, taskId);
    assert.equal(record.rehearsal, false);
    assert.equal(record.prompt, 'a slow zoom');
    assert.equal(record.seed, 7);
    assert.equal(record.file, video);
    assert.equal(record.endpoint, emu.url);
    assert.deepEqual(record.media, { first_frame: inputs.firstFrame });
    assert.deepEqual(record.parameters, { resolution: '720P', duration: 2 });
    assert.deepEqual(record.output_size, { width: 816, height: 1104 });
    assert.equal((record.usage as { duration: number }).duration, 2);
    assert.ok(!JSON.stringify(record).includes(KEY), 'never the key');
    // `wait` knows only the task: its record still carries the usage (3 s here; no duration was asked of it).
    const client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
    const body = (await prepareRequest({ firstFrame: inputs.firstFrame, resolution: '720P', duration: 3 }, () => assert.fail('no upload'))).body;
    const waited = (await client.createTask(body)).output.task_id;
    await client.close();
    const wait = await cli(['wait', waited, '--base-url', emu.url, '--out', out, '--poll-interval', '1']);
    assert.equal(wait.code, EXIT.ok, wait.stderr);
    const waitRecord = JSON.parse(await readFile(join(out, `wan-${waited}.json`), 'utf8')) as { usage: { duration: number }; parameters: object };
    assert.equal(waitRecord.usage.duration, 3);
    // A rehearsal the extension saved in the same folder: listed by the Gallery, never counted as spend.
    const rehearsalVideo = join(out, 'rehearsal.mp4');
    await copyFile(video, rehearsalVideo);
    await writeFile(join(out, 'rehearsal.json'), JSON.stringify({ ...record, task_id: 'rehearsal-task', rehearsal: true, endpoint: 'emulator', file: rehearsalVideo, usage: { duration: 15 } }));
    const list = await cli(['list', '--base-url', emu.url, '--since', '10m', '--spend', out]);
    assert.equal(list.code, EXIT.ok, list.stderr);
    const line = `Spent today 5 s · this month 5 s · all time 5 s (from the 3 video records in ${out}; rehearsals not counted)`;
    assert.ok(list.stdout.includes(line), list.stdout);
    const json = jsonOf(await cli(['list', '--base-url', emu.url, '--since', '10m', '--spend', out, '--json']));
    assert.deepEqual(json.spend, { today: 5, month: 5, all: 5, records: 3 });
  });

  describe('refuses before sending anything', () => {
    let small: string;
    let alpha: string;
    let shortAudio: string;
    let longClip: string;
    let wide: string;
    let huge: string;
    let gif: string;
    let longAudio: string;
    let tinyClip: string;
    let smallDataUri: string;
    let giant: string;
    let tall: string;
    let bigClip: string;
    let wideClip: string;
    before(async () => {
      // The clips here are only probed (size, aspect, length) and refused: 2 frames a second, not 24 (the 4112 px
      // one at 24 took over a minute to encode on a loaded machine and timed the hook out).
      [giant, tall, bigClip, wideClip] = await Promise.all([
        makeImage(join(dir, 'giant.png'), 8016, 1100),
        makeImage(join(dir, 'tall.png'), 240, 2200),
        makeVideo(join(dir, 'big.mp4'), 3, 4112, 600, 2),
        makeVideo(join(dir, 'wide.mp4'), 3, 2400, 248, 2),
      ]);
      [wide, huge, gif, longAudio, tinyClip] = await Promise.all([
        makeImage(join(dir, 'wide.png'), 2700, 300),
        makeImage(join(dir, 'huge.png'), 1000, 1000).then(async (p) => {
          await truncate(p, 21 * 1024 * 1024); // a real header, then sparse zeros: over the 20 MB limit
          return p;
        }),
        makeImage(join(dir, 'anim.gif'), 300, 300),
        makeAudio(join(dir, 'long.mp3'), 31),
        makeVideo(join(dir, 'tiny.mp4'), 3, 200, 200, 2),
      ]);
      [small, alpha, shortAudio, longClip] = await Promise.all([
        makeImage(join(dir, 'small.png'), 200, 200),
        makeAlphaPng(join(dir, 'alpha.png'), 400, 400),
        makeAudio(join(dir, 'short.wav'), 1),
        makeVideo(join(dir, 'long.mp4'), 11, 320, 240, 2),
      ]);
      smallDataUri = `data:image/png;base64,${(await readFile(small)).toString('base64')}`;
      emu.clearRequests();
    });
    afterEach(() => assert.deepEqual(emu.requests(), [], 'nothing may reach the service'));

    const cases: [string, () => string[], RegExp][] = [
      ['a last frame alone', () => ['--last-frame', inputs.lastFrame], /needs --first-frame IMG or --clip VIDEO/],
      ['audio alone', () => ['--audio', inputs.audio], /needs --first-frame IMG or --clip VIDEO/],
      ['a first frame with a clip', () => ['--first-frame', inputs.firstFrame, '--clip', inputs.clip], /first_frame \+ first_clip is not a valid combination/],
      ['a clip with audio', () => ['--clip', inputs.clip, '--audio', inputs.audio], /first_clip \+ driving_audio is not a valid combination/],
      ['a clip, a last frame and audio', () => ['--clip', inputs.clip, '--last-frame', inputs.lastFrame, '--audio', inputs.audio], /first_clip \+ last_frame \+ driving_audio is not a valid combination/],
      ['duration 1', () => ['--first-frame', inputs.firstFrame, '--duration', '1'], /parameters\.duration: must be at least 2 seconds/],
      ['duration 16', () => ['--first-frame', inputs.firstFrame, '--duration', '16'], /parameters\.duration: must be at most 15 seconds/],
      ['a fractional duration', () => ['--first-frame', inputs.firstFrame, '--duration', '2.5'], /--duration must be a whole number/],
      ['a seed above the range', () => ['--first-frame', inputs.firstFrame, '--seed', '2147483648'], /--seed must be 0\.\.2147483647, got 2147483648/],
      ['a negative seed', () => ['--first-frame', inputs.firstFrame, '--seed=-1'], /--seed must be 0\.\.2147483647, got -1/],
      ['a negative seed as a separate word', () => ['--first-frame', inputs.firstFrame, '--seed', '-1'], /--seed must be 0\.\.2147483647, got -1/],
      ['a negative duration as a separate word', () => ['--first-frame', inputs.firstFrame, '--duration', '-3'], /parameters\.duration: must be at least 2 seconds/],
      ['an unknown resolution', () => ['--first-frame', inputs.firstFrame, '--resolution', '4K'], /parameters\.resolution: must be 720P or 1080P/],
      ['a prompt over 5000 characters', () => ['--first-frame', inputs.firstFrame, '--prompt', 'x'.repeat(5001)], /input\.prompt: is 5001 characters; the limit is 5000/],
      ['a negative prompt over 500 characters', () => ['--first-frame', inputs.firstFrame, '--negative-prompt', 'y'.repeat(501)], /input\.negative_prompt: is 501 characters; the limit is 500/],
      ['an image under 240 px', () => ['--first-frame', small], /small\.png is 200x200 px/],
      ['a PNG with alpha', () => ['--first-frame', alpha], /alpha/],
      ['a data: URI holding a 200 px image', () => ['--first-frame', smallDataUri], /first frame data URI is 200x200 px/],
      ['audio under 2 s', () => ['--first-frame', inputs.firstFrame, '--audio', shortAudio], /short\.wav .*2.30 s|short\.wav .*2–30 s/],
      ['a clip over 10 s', () => ['--clip', longClip, '--duration', '15'], /long\.mp4 .*10 s/],
      ['a clip as long as the duration', () => ['--clip', inputs.clip, '--duration', '3'], /parameters\.duration: .*longer than the clip/],
      ['a missing file', () => ['--first-frame', join(dir, 'nope.png')], /nope\.png was not found/],
      ['a file:// URL, as unsupported, not as missing', () => ['--first-frame', `file://${inputs.firstFrame}`], /--first-frame: file:\/\/ sources are not supported.*give its path: \/.*first\.png\)/],
      ['an ftp:// URL, as unsupported, not as missing', () => ['--first-frame', inputs.firstFrame, '--audio', 'ftp://example.com/a.mp3'], /--audio: ftp:\/\/ sources are not supported/],
      ['a mistyped URL, as a URL, not as a missing file', () => ['--first-frame', 'htp:/example.com/cat.png'], /--first-frame: htp:\/example\.com\/cat\.png is neither a file nor a URL the CLI can read \(a URL starts http:\/\/, https:\/\/ or oss:\/\/\)/],
      ['an image wider than 8:1', () => ['--first-frame', wide], /wide\.png has aspect 9\.0:1.*between 1:8 and 8:1/],
      ['an image over 8000 px', () => ['--first-frame', giant], /giant\.png is 8016x1100 px; width and height must each be between 240 and 8000 px/],
      ['an image taller than 1:8', () => ['--first-frame', tall], /tall\.png has aspect 1:9\.2/],
      ['a clip over 4096 px', () => ['--clip', bigClip], /big\.mp4 is 4112x600 px; width and height must each be between 240 and 4096 px/],
      ['a clip wider than 8:1', () => ['--clip', wideClip], /wide\.mp4 has aspect 9\.7:1/],
      ['an image over 20 MB', () => ['--first-frame', huge], /huge\.png is 21\.0 MB.*at most 20 MB/],
      ['a GIF', () => ['--first-frame', gif], /anim\.gif is a GIF image.*JPEG, PNG \(without alpha\), BMP or WEBP/],
      ['audio over 30 s', () => ['--first-frame', inputs.firstFrame, '--audio', longAudio], /long\.mp3 is 31\.\d s long/],
      ['a clip under 240 px', () => ['--clip', tinyClip], /tiny\.mp4 is 200x200 px/],
      ['a clip and an image both with problems, all reported', () => ['--clip', tinyClip, '--last-frame', small], /tiny\.mp4[\s\S]*small\.png|small\.png[\s\S]*tiny\.mp4/],
    ];
    for (const [name, args, message] of cases) {
      it(`refuses ${name} (exit ${EXIT.invalidInput})`, async () => {
        const resolutionless = base.filter((a, i) => !(a === '--resolution' || base[i - 1] === '--resolution'));
        const run = await cli(['generate', ...args(), ...resolutionless]);
        assert.equal(run.code, EXIT.invalidInput, `${run.stderr}`);
        assert.match(run.stderr, message);
        assert.equal(run.stdout, '');
      });
    }

    it('refuses an --out that cannot hold the video, before paying for it', async () => {
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, '--base-url', emu.url, '--out', join(inputs.firstFrame, 'videos')]);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /--out .*first\.png\/videos cannot be used as a folder to save videos in \(ENOTDIR\)/);
    });

    it('refuses an --out that looks like a video file name, without creating it', async () => {
      const out = join(dir, 'result.mp4');
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, '--base-url', emu.url, '--out', out]);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /--out is the folder to save videos in, but .*result\.mp4 looks like a video file name/);
      assert.equal(existsSync(out), false);
    });

    it('refuses an --out that is an existing file', async () => {
      const run = await cli(['wait', 'some-task', '--base-url', emu.url, '--out', inputs.firstFrame]);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /--out .*first\.png is a file, not a folder/);
    });

    it('validates every input before creating the --out folder', async () => {
      const out = join(dir, 'not-yet');
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, '--duration', '1', '--base-url', emu.url, '--out', out]);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /parameters\.duration/);
      assert.equal(existsSync(out), false, 'the folder is made only once the inputs are valid');
    });

    it('answers quickly for an --out where no folder can be made (/proc)', async () => {
      const started = Date.now();
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, '--base-url', emu.url, '--out', '/proc/wan-videos'], undefined, 20_000);
      assert.equal(run.code, EXIT.invalidInput, `exit ${run.code} after ${Date.now() - started} ms: ${run.stderr}`);
      assert.match(run.stderr, /--out \/proc\/wan-videos cannot be used as a folder to save videos in \(ENOENT\)/);
      assert.ok(Date.now() - started < 10_000);
    });

    it('refuses a key no HTTP header can carry as a configuration error (exit 3), without echoing it', async () => {
      for (const key of ['sk-abc123\nxyz789', 'sk-abc123\rxyz789', 'sk-abc123\txyz789', 'sk-abc123 xyz789', 'sk-abc123é']) {
        const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--json'], { DASHSCOPE_API_KEY: key });
        assert.equal(run.code, EXIT.notConfigured, JSON.stringify(key) + run.stderr);
        assert.match(run.stderr, /DASHSCOPE_API_KEY: the API key contains a line break, a space or another character an HTTP header cannot carry/);
        assert.doesNotMatch(run.stdout + run.stderr, /abc123|xyz789/);
        assert.equal(jsonOf(run).code, 'InvalidApiKeyFormat');
      }
    });

    it('refuses to run without DASHSCOPE_API_KEY (exit 3)', async () => {
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base], {});
      assert.equal(run.code, EXIT.notConfigured);
      assert.match(run.stderr, /DASHSCOPE_API_KEY is not set/);
    });
    it('refuses a region and a base URL together, and a bad workspace ID', async () => {
      let run = await cli(['status', 'abc', '--region', 'beijing', '--base-url', emu.url]);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /either --base-url or --region/);
      run = await cli(['status', 'abc', '--region', 'singapore-workspace', '--workspace-id', 'a.b/c']);
      assert.equal(run.code, EXIT.invalidInput);
      assert.match(run.stderr, /Workspace ID/);
    });
  });

  it('exits 4 with the service message when the key is refused, and never prints the key', async () => {
    const run = await cli(['status', 'some-task', '--base-url', emu.url], { DASHSCOPE_API_KEY: 'sk-secret-wrong-key' });
    assert.equal(run.code, EXIT.apiError);
    assert.match(run.stderr, /InvalidApiKey/);
    assert.doesNotMatch(run.stderr + run.stdout, /sk-secret-wrong-key/);
  });

  it('exits 5 when the task fails, naming the code', async () => {
    emu.faults.add({ route: 'outcome', kind: 'fail', code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.' });
    const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2']);
    assert.equal(run.code, EXIT.taskNotSucceeded);
    assert.match(run.stderr, /FAILED: DataInspectionFailed/);
  });

  for (const [name, fault] of [
    ['is lost', { route: 'create', kind: 'drop', phase: 'after' }],
    ['is a 502 from a gateway', { route: 'create', kind: 'status', status: 502 }],
  ] as const) {
    it(`exits 7 when the create answer ${name}, and does not send it twice`, async () => {
      emu.clearRequests();
      emu.faults.add(fault);
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2'], { lookup: QUICK_LOOKUP });
      assert.equal(run.code, EXIT.createOutcomeUnknown, run.stderr);
      assert.match(run.stderr, /may have reached the service/);
      assert.equal(emu.requests().filter((r) => r.route === 'create').length, 1);
    });
  }

  describe('exit 7 names only the task the service echoes this run for', () => {
    const other = async (prompt: string) => {
      const client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
      const prepared = await prepareRequest({ firstFrame: inputs.firstFrame, prompt, duration: 2, resolution: '720P' }, async () => 'unused');
      const made = await client.waitForTask((await client.createTask(prepared.body)).output.task_id, { intervalMs: 50 });
      await client.close();
      return made.output.task_id;
    };

    it('after a create that never reached the service, does not offer another run’s task, and says none has this prompt', async () => {
      const earlier = await other('an earlier run, already saved');
      emu.faults.add({ route: 'create', kind: 'drop', phase: 'before' });
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--prompt', 'this run only', '--json'], { lookup: QUICK_LOOKUP });
      assert.equal(run.code, EXIT.createOutcomeUnknown, run.stderr);
      assert.doesNotMatch(run.stderr, new RegExp(`wan-video wait ${earlier}`), 'the earlier run’s task is not offered');
      assert.doesNotMatch(run.stderr, /this run's\. Save it|probably this run's/);
      assert.match(run.stderr, /has this run's prompt, duration and resolution: they are other runs'\. Lists can lag/);
      assert.deepEqual(jsonOf(run).candidates, []);
    });

    it('after a lost answer, waits for the task to succeed and names it, not the other tasks of the minute', async function () {
      this.timeout(120_000);
      await other('another run in the same minute');
      emu.clearRequests();
      emu.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--prompt', 'this run, answer lost', '--json'], {
        lookup: { ...QUICK_LOOKUP, maxMs: 90_000 }, // the render may take a while on a loaded machine
      });
      assert.equal(run.code, EXIT.createOutcomeUnknown, run.stderr);
      const made = emu.requests().find((r) => r.route === 'create')?.taskId;
      assert.ok(made, 'the emulator made a task before dropping the answer');
      assert.match(run.stderr, new RegExp(`it is this run's\\. Save it instead of paying for another:\\n\\s+${made}\\s+SUCCEEDED.*\\n.*wan-video wait ${made} --out`));
      const json = jsonOf(run);
      assert.deepEqual((json.candidates as { task_id: string }[]).map((c) => c.task_id), [made]);
      assert.equal(json.task_id, made);
    });
  });

  describe('once a task exists, every failure is resumable', () => {
    const taskIdIn = (text: string) => /wan-video wait ([A-Za-z0-9-]+) --out/.exec(text)?.[1];

    it('a poll failure another try cannot fix exits 6 with the task ID and the wait command', async () => {
      emu.clearRequests();
      emu.faults.add({ route: 'task', kind: 'status', status: 403, code: 'AccessDenied', message: 'Access denied.' });
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2']);
      assert.equal(run.code, EXIT.networkError, run.stderr);
      const created = emu.requests().find((r) => r.route === 'create')?.taskId;
      assert.ok(created);
      assert.equal(taskIdIn(run.stderr.split('AccessDenied')[1] ?? ''), created, `the wait command follows the error:\n${run.stderr}`);
    });

    it('polling rides out six 500s, a 404 on the task URL and a 429 with a long Retry-After', async () => {
      emu.faults.add([
        { route: 'task', kind: 'status', status: 500, times: 6 },
        { route: 'task', kind: 'status', status: 404 },
        { route: 'task', kind: 'status', status: 429, retryAfterSeconds: 3600 },
      ]);
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2'], {
        outage: { baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 300 },
      });
      assert.equal(run.code, EXIT.ok, run.stderr);
      assert.match(run.stdout, /wan-[A-Za-z0-9-]+\.mp4\n$/);
      assert.equal(emu.faults.pending().length, 0, 'every fault was met');
    });

    it('Ctrl-C during a download exits 130 with the wait command, not 8', async () => {
      emu.faults.add({ route: 'download', kind: 'slow', bytesPerSecond: 20_000 });
      const child = spawn(process.execPath, [CLI, 'generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json'], {
        env: { PATH: process.env.PATH, DASHSCOPE_API_KEY: KEY },
      });
      let stderr = '';
      let stdout = '';
      let interrupted = false;
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        // Once: a second Ctrl-C is the user insisting, and ends the process at once.
        if (/Downloading/.test(stderr) && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      emu.faults.clear();
      assert.equal(code, EXIT.interrupted, stderr);
      const id = taskIdIn(stderr);
      assert.ok(id, stderr);
      const json = jsonOf({ code: code ?? -1, stdout, stderr });
      assert.deepEqual([json.exit_code, json.code, json.task_id], [EXIT.interrupted, 'Interrupted', id]);
      const leftovers = (await readdir(join(dir, 'out'))).filter((f) => f.endsWith('.part'));
      assert.deepEqual(leftovers, [], 'no partial file is left behind');
    });
  });

  it('two runs saving the same task to the same folder both end with the complete video', async () => {
    const first = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2']);
    assert.equal(first.code, EXIT.ok, first.stderr);
    const reference = await readFile(first.stdout.trim());
    const taskId = /wan-([A-Za-z0-9-]+)\.mp4$/.exec(first.stdout.trim())![1]!;
    const shared = join(dir, 'shared');
    // Slow enough that the two downloads overlap for about two seconds.
    emu.faults.add({ route: 'download', kind: 'slow', bytesPerSecond: Math.ceil(reference.length / 2), times: 2 });
    const wait = () => cli(['wait', taskId, '--base-url', emu.url, '--out', shared, '--poll-interval', '1', '--json']);
    const runs = await Promise.all([wait(), wait()]);
    for (const r of runs) {
      assert.equal(r.code, EXIT.ok, r.stderr);
      const json = jsonOf(r);
      assert.equal(json.file, join(shared, `wan-${taskId}.mp4`));
      assert.equal(json.bytes, reference.length);
    }
    assert.ok((await readFile(join(shared, `wan-${taskId}.mp4`))).equals(reference), 'the saved file is the whole video');
    assert.deepEqual((await readdir(shared)).sort(), [`wan-${taskId}.json`, `wan-${taskId}.mp4`], 'the video and its record; no temporary file is left behind');
  });

  it('a local write error during the download is not retried as a network error: exit 8 with a disk hint and the task ID', async () => {
    const first = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2']);
    assert.equal(first.code, EXIT.ok, first.stderr);
    const size = (await readFile(first.stdout.trim())).length;
    const taskId = /wan-([A-Za-z0-9-]+)\.mp4$/.exec(first.stdout.trim())![1]!;
    const small = join(dir, 'small-limit');
    emu.clearRequests();
    // A file size limit below the video's size: the kernel refuses the write (EFBIG), like a full disk.
    const limitKb = Math.floor(size / 1024 / 2);
    const run = await new Promise<Run>((done) => {
      const script = `ulimit -f ${limitKb}; exec "$0" "$@"`;
      execFile('sh', ['-c', script, process.execPath, CLI, 'wait', taskId, '--base-url', emu.url, '--out', small, '--poll-interval', '1'], {
        env: { PATH: process.env.PATH, DASHSCOPE_API_KEY: KEY },
        timeout: 60_000,
      }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
    });
    assert.equal(run.code, EXIT.downloadFailed, run.stderr);
    assert.match(run.stderr, /EFBIG/);
    assert.match(run.stderr, /disk space|another folder/);
    assert.doesNotMatch(run.stderr, /Check the network/);
    assert.match(run.stderr, new RegExp(`Resume with: wan-video wait ${taskId} --out `));
    assert.equal(emu.requests().filter((r) => r.route === 'download').length, 1, 'a local write error is not retried');
    assert.deepEqual(await readdir(small), [], 'the partial file is removed');
  });

  describe('--json prints one JSON object on every exit', () => {
    it('2: bad arguments', async () => {
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', 'x', '--json']);
      assert.equal(run.code, EXIT.invalidInput);
      const json = jsonOf(run);
      assert.equal(json.exit_code, EXIT.invalidInput);
      assert.equal(json.code, 'InvalidArguments');
      assert.match(String(json.message), /--duration must be a whole number/);
    });
    it('3: no key', async () => {
      const run = await cli(['status', 'abc', '--base-url', emu.url, '--json'], {});
      assert.deepEqual([run.code, jsonOf(run).exit_code, jsonOf(run).code], [EXIT.notConfigured, EXIT.notConfigured, 'NotConfigured']);
    });
    it('4: a refused key, without echoing it', async () => {
      const run = await cli(['status', 'abc', '--base-url', emu.url, '--json'], { DASHSCOPE_API_KEY: 'sk-json-wrong' });
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code, json.code], [EXIT.apiError, EXIT.apiError, 'InvalidApiKey']);
      assert.doesNotMatch(run.stdout + run.stderr, /sk-json-wrong/);
    });
    it('5: a FAILED task, with its ID', async () => {
      emu.clearRequests();
      emu.faults.add({ route: 'outcome', kind: 'fail', code: 'DataInspectionFailed', message: 'flagged' });
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code, json.code], [EXIT.taskNotSucceeded, EXIT.taskNotSucceeded, 'DataInspectionFailed']);
      assert.equal(json.task_id, emu.requests().find((r) => r.route === 'create')?.taskId);
    });
    for (const kind of ['fail', 'unknown'] as const) {
      it(`5: a task that ended (${kind === 'fail' ? 'FAILED' : 'UNKNOWN'}) offers no wait command and no resume`, async () => {
        emu.clearRequests();
        emu.faults.add({ route: 'outcome', kind, code: 'InternalError', message: 'boom' });
        const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
        const json = jsonOf(run);
        assert.deepEqual([run.code, json.exit_code], [EXIT.taskNotSucceeded, EXIT.taskNotSucceeded], run.stderr);
        const id = emu.requests().find((r) => r.route === 'create')?.taskId;
        assert.equal(json.task_id, id);
        assert.equal(json.resume, undefined, 'nothing to resume');
        const failure = run.stderr.slice(run.stderr.indexOf('wan-video: '));
        assert.match(failure, new RegExp(`Task ${id} (FAILED|UNKNOWN)`));
        assert.doesNotMatch(failure, /goes on at the service|Resume with|wan-video wait/);
      });
    }
    it('6: a failure while polling, with the task ID', async () => {
      emu.faults.add({ route: 'task', kind: 'status', status: 401, code: 'InvalidApiKey', message: 'Invalid API-key provided.' });
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code, json.code], [EXIT.networkError, EXIT.networkError, 'InvalidApiKey']);
      assert.match(String(json.task_id), /^[A-Za-z0-9-]+$/);
      assert.match(String(json.resume), new RegExp(`^wan-video wait ${String(json.task_id)} --out `));
    });
    it('7: an ambiguous create', async () => {
      emu.faults.add({ route: 'create', kind: 'status', status: 502 });
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code, json.code], [EXIT.createOutcomeUnknown, EXIT.createOutcomeUnknown, 'CreateOutcomeUnknown']);
    });
    it('8: the video could not be saved, with the task ID', async () => {
      emu.faults.add({ route: 'download', kind: 'status', status: 403, code: 'AccessDenied', message: 'Request has expired.' });
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code, json.code], [EXIT.downloadFailed, EXIT.downloadFailed, 'VideoUrlExpired']);
      assert.match(String(json.task_id), /^[A-Za-z0-9-]+$/);
    });
    it('0: success carries exit_code too', async () => {
      const run = await cli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json']);
      const json = jsonOf(run);
      assert.deepEqual([run.code, json.exit_code], [EXIT.ok, EXIT.ok]);
      assert.match(String(json.file), /\.mp4$/);
    });
  });

  it('bounds --poll-interval to 1..600 s, before sending anything', async () => {
    emu.clearRequests();
    for (const value of ['3000000', '601', '0']) {
      const run = await cli(['wait', 'some-task', '--base-url', emu.url, '--out', join(dir, 'out'), '--poll-interval', value]);
      assert.equal(run.code, EXIT.invalidInput, `${value}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`--poll-interval must be 1\\.\\.600 seconds, got ${value}`));
    }
    assert.deepEqual(emu.requests(), []);
  });

  describe('list, and finding the task of an ambiguous create', () => {
    let own: RunningEmulator;
    beforeEach(async () => {
      // Tasks stay PENDING: nothing renders, and only this test's tasks are listed.
      own = await startEmulator({ pendingMs: 10 * 60 * 60_000, runningMs: 100, apiKeys: [KEY], asGateway: true });
    });
    afterEach(async () => own?.close());

    it('lists recent tasks with --since, --until, --status, --limit and --json', async () => {
      const client = new WanClient({ baseUrl: own.url, apiKey: KEY });
      const body = (await prepareRequest({ firstFrame: inputs.firstFrame, resolution: '720P', duration: 2 }, () => assert.fail('no upload'))).body;
      const ids: string[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          ids.push((await client.createTask(body)).output.task_id);
          own.clock.advance(60 * 60_000);
        }
        await client.cancelTask(ids[1]!);
      } finally {
        await client.close();
      }
      // The emulator's clock ran ahead: its tasks are 0, 1 and 2 hours from now, as the CLI sees it.
      const later = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
      const list = (...args: string[]) => cli(['list', '--base-url', own.url, ...args]);
      const idsOf = (r: Run) => r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);

      let run = await list('--since', '10m');
      assert.equal(run.code, EXIT.ok, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(idsOf(run), [ids[2], ids[1], ids[0]], run.stdout);
      assert.match(lines[1]!, /CANCELED/);
      assert.match(lines[0]!, /PENDING\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
      assert.deepEqual(idsOf(await list('--since', later(90))), [ids[2]]);
      assert.deepEqual(idsOf(await list('--since', '10m', '--until', later(30))), [ids[0]]);

      run = await list('--status', 'canceled', '--json');
      let json = jsonOf(run);
      assert.deepEqual([json.exit_code, json.total, (json.tasks as { task_id: string }[]).map((t) => t.task_id)], [EXIT.ok, 1, [ids[1]]]);

      run = await list('--limit', '2', '--json');
      json = jsonOf(run);
      assert.deepEqual([json.total, (json.tasks as unknown[]).length], [3, 2]);
      assert.match(run.stderr, /2 of 3/);

      for (const [args, message] of [
        [['--since', 'yesterday'], /--since must be a time .* or an age/],
        [['--status', 'DONE'], /--status must be one of PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED/],
        [['--limit', '0'], /--limit must be 1\.\.1000, got 0/],
        [['--since', '1h', '--until', '2h'], /--since must be before --until/],
      ] as const) {
        run = await list(...args);
        assert.equal(run.code, EXIT.invalidInput, run.stderr);
        assert.match(run.stderr, message);
      }
    });

    it('refuses --since and --until dates that do not exist, rather than rolling them over', async () => {
      for (const [option, value] of [
        ['--since', '2026-02-30'],
        ['--since', '2026-02-29 10:00'],
        ['--until', '2026-04-31T10:00:00Z'],
        ['--since', '2026-04-25T24:30'],
        ['--since', '2026-13-01'],
      ]) {
        const run = await cli(['list', '--base-url', own.url, option!, value!]);
        assert.equal(run.code, EXIT.invalidInput, `${option} ${value}: ${run.stderr}`);
        assert.match(run.stderr, new RegExp(`${option} must be a time .*got "${value}"`));
      }
      assert.deepEqual(own.requests(), [], 'nothing was listed');
      const leap = await cli(['list', '--base-url', own.url, '--since', '2028-02-29', '--until', '2028-03-01']);
      assert.equal(leap.code, EXIT.ok, leap.stderr);
    });

    it('after a create whose answer was lost (exit 7), prints the task it made with the wait command', async () => {
      own.faults.add({ route: 'create', kind: 'drop', phase: 'after' });
      const out = join(dir, 'ambiguous');
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, '--base-url', own.url, '--out', out, '--duration', '2', '--json'], { lookup: QUICK_LOOKUP });
      assert.equal(run.code, EXIT.createOutcomeUnknown, run.stderr);
      const made = own.requests().find((r) => r.route === 'create')?.taskId;
      assert.ok(made, 'the emulator made a task before dropping the answer');
      assert.match(run.stderr, new RegExp(`${made}\\s+PENDING\\s+\\d{4}-\\d{2}-\\d{2} [\\d:]+.*\\n.*wan-video wait ${made} --out ${out} --base-url`));
      const json = jsonOf(run);
      assert.equal(json.code, 'CreateOutcomeUnknown');
      assert.deepEqual((json.candidates as { task_id: string }[]).map((c) => c.task_id), [made]);
      assert.equal(own.requests().filter((r) => r.route === 'create').length, 1, 'the create is not repeated');
    });

    it('after an ambiguous create that made nothing, says no task was found', async () => {
      own.faults.add({ route: 'create', kind: 'status', status: 504 });
      const run = await cliInProcess(['generate', '--first-frame', inputs.firstFrame, '--base-url', own.url, '--out', join(dir, 'ambiguous'), '--duration', '2'], { lookup: QUICK_LOOKUP });
      assert.equal(run.code, EXIT.createOutcomeUnknown, run.stderr);
      assert.match(run.stderr, /No task of this model was created between/);
      assert.match(run.stderr, /wan-video list --since 10m/);
    });
  });

  describe('closed pipes and stop signals do not lose a paid task', () => {
    const partsIn = async (folder: string) => (await readdir(folder).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));

    it('a closed stderr (2> >(head -c 10)) does not stop the run: the video is saved and --json printed', async () => {
      const out = join(dir, 'closed-stderr');
      const run = await spawnCli(['generate', '--first-frame', inputs.firstFrame, ...base, '--out', out, '--duration', '2', '--json'], (child, stderr) => {
        if (stderr.length >= 10 && !child.stderr!.destroyed) child.stderr!.destroy();
      });
      assert.equal(run.code, EXIT.ok, run.stdout);
      const json = jsonOf(run);
      assert.equal(json.exit_code, EXIT.ok);
      assert.ok(existsSync(String(json.file)), 'the video is saved');
    });

    it('closed stdout and stderr (2>&1 | head -4) still leave the video saved, exit 0', async () => {
      const out = join(dir, 'closed-both');
      const run = await spawnCli(['generate', '--first-frame', inputs.firstFrame, ...base, '--out', out, '--duration', '2'], (child, stderr) => {
        if (/Creating/.test(stderr) && !child.stdout!.destroyed) {
          child.stdout!.destroy();
          child.stderr!.destroy();
        }
      });
      assert.equal(run.code, EXIT.ok);
      const files = await readdir(out);
      assert.equal(files.filter((f) => /^wan-.+\.mp4$/.test(f)).length, 1, files.join(', '));
      assert.deepEqual(await partsIn(out), []);
    });

    it('list into a closed pipe (| head -1) exits 0 without a stack trace', async () => {
      const client = new WanClient({ baseUrl: emu.url, apiKey: KEY });
      try {
        const body = (await prepareRequest({ firstFrame: inputs.firstFrame, resolution: '720P', duration: 2 }, () => assert.fail('no upload'))).body;
        await client.createTask(body);
      } finally {
        await client.close();
      }
      const run = await spawnCli(['list', '--base-url', emu.url, '--limit', '1000'], (child) => {
        if (!child.stdout!.destroyed) child.stdout!.destroy();
      });
      assert.equal(run.code, EXIT.ok, run.stderr);
      assert.doesNotMatch(run.stderr, /EPIPE|Error|\n\s+at /);
    });

    it('with stderr closed, a failure after the create still tells the task ID and the wait command (on stdout)', async () => {
      emu.clearRequests();
      emu.faults.add({ route: 'task', kind: 'status', status: 403, code: 'AccessDenied', message: 'Access denied.' });
      const run = await spawnCli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2'], (child) => {
        if (!child.stderr!.destroyed) child.stderr!.destroy();
      });
      assert.equal(run.code, EXIT.networkError, run.stdout);
      const id = emu.requests().find((r) => r.route === 'create')?.taskId;
      assert.ok(id);
      assert.match(run.stdout, new RegExp(`wan-video wait ${id} --out `));
    });

    it('SIGTERM during the create exits 143 with the warning and the list command for this endpoint, and --json', async () => {
      emu.faults.add({ route: 'create', kind: 'slow', delayMs: 3000 });
      let sent = false;
      const run = await spawnCli(['generate', '--first-frame', inputs.firstFrame, ...base, '--duration', '2', '--json'], (child, stderr) => {
        if (/Creating/.test(stderr) && !sent) {
          sent = true;
          setTimeout(() => child.kill('SIGTERM'), 300);
        }
      });
      emu.faults.clear();
      assert.deepEqual([run.code, run.signal], [EXIT.terminated, null], run.stderr);
      assert.match(run.stderr, /Stopped by SIGTERM while creating the task: it may have reached the service/);
      assert.ok(run.stderr.includes(`wan-video list --since 10m --base-url ${emu.url}`), run.stderr);
      const json = jsonOf(run);
      assert.deepEqual([json.exit_code, json.code, json.signal], [EXIT.terminated, 'Interrupted', 'SIGTERM']);
    });

    for (const [signal, exitCode] of [['SIGTERM', EXIT.terminated], ['SIGHUP', EXIT.hungUp]] as const) {
      it(`${signal} during the download exits ${exitCode} with the wait command and --json, leaving no .part`, async () => {
        const out = join(dir, `signal-${signal}`);
        emu.faults.add({ route: 'download', kind: 'slow', bytesPerSecond: 20_000 });
        let sent = false;
        const run = await spawnCli(['generate', '--first-frame', inputs.firstFrame, ...base, '--out', out, '--duration', '2', '--json'], (child, stderr) => {
          if (/Downloading/.test(stderr) && !sent) {
            sent = true;
            child.kill(signal);
          }
        });
        emu.faults.clear();
        assert.deepEqual([run.code, run.signal], [exitCode, null], run.stderr);
        const id = /wan-video wait ([A-Za-z0-9-]+) --out/.exec(run.stderr)?.[1];
        assert.ok(id, run.stderr);
        const json = jsonOf(run);
        assert.deepEqual([json.exit_code, json.code, json.signal, json.task_id], [exitCode, 'Interrupted', signal, id]);
        assert.match(String(json.resume), new RegExp(`^wan-video wait ${id} --out `));
        assert.deepEqual(await partsIn(out), [], 'no partial file is left behind');
      });
    }
  });

  describe('answers the service should not give', () => {
    /** A stand-in for the service over real HTTP: one task answer, and a video sent without a length. */
    async function fakeService(answer: (id: string, base: string) => object, video: () => Buffer | undefined = () => undefined) {
      const server = createHttpServer((req, res) => {
        const id = /^\/api\/v1\/tasks\/([^/?]+)$/.exec(req.url ?? '')?.[1];
        if (id) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(id, `http://127.0.0.1:${port}`)));
        } else if (req.url === '/v.mp4' && video()) {
          // writeHead first: the body then goes chunked, with no Content-Length.
          res.writeHead(200, { 'content-type': 'video/mp4' });
          res.end(video());
        } else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    }

    it('a poll answer about another task is refused, not taken for this task (wait and status)', async () => {
      const service = await fakeService((id, url) => ({
        request_id: 'r1',
        output: { task_id: `not-${id}`, task_status: 'SUCCEEDED', video_url: `${url}/v.mp4` },
        usage: { duration: 2, output_video_duration: 2 },
      }));
      try {
        const out = join(dir, 'other-task');
        const run = await cli(['wait', 'my-task', '--base-url', service.url, '--out', out, '--json']);
        assert.equal(run.code, EXIT.networkError, run.stderr);
        assert.match(run.stderr, /Poll task my-task: the service answered about another task \(not-my-task\)/);
        assert.equal(jsonOf(run).code, 'TASK_MISMATCH');
        assert.deepEqual(await readdir(out), [], 'nothing saved');
        const status = await cli(['status', 'my-task', '--base-url', service.url]);
        assert.notEqual(status.code, EXIT.ok);
        assert.match(status.stderr, /answered about another task/);
      } finally {
        await service.close();
      }
    });

    it('a fragmented MP4 without a length, cut at a fragment boundary, is not saved as complete (exit 8)', async () => {
      const whole = join(dir, 'fragmented.mp4');
      await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=4:r=10', '-c:v', 'libx264', '-g', '10', '-movflags', 'frag_keyframe+empty_moov', whole]);
      const bytes = await readFile(whole);
      // Top-level boxes: cut just before the third fragment (moof), about 2 s of the 4.
      const moofs: number[] = [];
      for (let at = 0; at < bytes.length; at += bytes.readUInt32BE(at)) if (bytes.toString('latin1', at + 4, at + 8) === 'moof') moofs.push(at);
      assert.ok(moofs.length >= 4, `fragments at ${moofs.join(', ')}`);
      let video = bytes.subarray(0, moofs[2]);
      const service = await fakeService(
        (id, url) => ({
          request_id: 'r1',
          output: { task_id: id, task_status: 'SUCCEEDED', video_url: `${url}/v.mp4` },
          usage: { duration: 4, output_video_duration: 4, SR: 720, video_count: 1 },
        }),
        () => video,
      );
      try {
        const out = join(dir, 'fragmented-out');
        const cut = await cli(['wait', 'frag-task', '--base-url', service.url, '--out', out, '--json']);
        assert.equal(cut.code, EXIT.downloadFailed, cut.stderr);
        assert.match(cut.stderr, /Download ended early: the file holds 2\.\d s of the 4 s video the task reports/);
        assert.match(cut.stderr, /Resume with: wan-video wait frag-task --out /);
        assert.deepEqual(await readdir(out), [], 'nothing saved, no .part left');
        video = bytes;
        const full = await cli(['wait', 'frag-task', '--base-url', service.url, '--out', out, '--json']);
        assert.equal(full.code, EXIT.ok, full.stderr);
        assert.equal(jsonOf(full).bytes, bytes.length);
      } finally {
        await service.close();
      }
    });
  });

  describe('a wrong address on wait', () => {
    for (const [name, baseUrl] of [
      ['connection refused', async () => `http://127.0.0.1:${await closedPort()}`],
      ['404 on the API path', async () => `${emu.url}/not-the-api`],
    ] as const) {
      it(`(${name}) says the address may be wrong, and names each failure once`, async () => {
        const url = await baseUrl();
        const run = await cliInProcess(['wait', 'some-task', '--base-url', url, '--out', join(dir, 'wrong-address'), '--poll-interval', '1'], {
          outage: { baseDelayMs: 20, maxDelayMs: 50, maxTaskAgeMs: 400 },
        });
        assert.equal(run.code, EXIT.networkError, run.stderr);
        const warning = `No answer from ${url} yet. If this goes on, the address may be wrong: check --base-url or --region`;
        assert.ok(run.stderr.includes(warning), run.stderr);
        assert.equal(run.stderr.split(warning).length, 3, 'once while waiting, once with the failure');
        assert.doesNotMatch(run.stderr, /(Poll task some-task:?)\s*\1/, 'the request is named once per line');
      });
    }
  });

  it('status and cancel speak to a task', async () => {
    const run = await cli(['status', 'no-such-task', '--base-url', emu.url]);
    assert.equal(run.code, EXIT.ok);
    assert.match(run.stdout, /UNKNOWN/);
    const cancel = await cli(['cancel', 'no-such-task', '--base-url', emu.url]);
    assert.equal(cancel.code, EXIT.apiError);
  });
});
