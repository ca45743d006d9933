// wan-video: the protocol core on the command line. Progress goes to stderr; stdout gets the saved
// path, or with --json exactly one JSON object on every exit, so scripts can capture it.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanClient,
  WanConfigError,
  WanNetworkError,
  WanValidationError,
  MODEL,
  explainError,
  expectedVideoSeconds,
  checkCandidates,
  decideMatch,
  findTasksCreatedBetween,
  isAbort,
  sleep,
  listAllTasks,
  prepareRequest,
  probeWritable,
  suggestsWrongAddress,
  taskCreatedAt,
  type LostCreate,
  type MatchDecision,
  type OutagePolicy,
  type PollSchedule,
  type RetryPolicy,
  type TaskListItem,
  type TaskResponse,
} from '../wan';
import { learnedScheduleFor } from '../tasks/schedule';
import { CliUsageError, USAGE, parseCommand, wantsJson, type Common } from './args';
import { EXIT, STOP_SIGNALS, type StopSignal } from './exitCodes';

declare const __WAN_STUDIO_VERSION__: string | undefined;
/** The package version, put in by the bundler (esbuild.mjs `define`); "0.0.0-dev" when run unbundled. */
export const CLI_VERSION = typeof __WAN_STUDIO_VERSION__ === 'string' ? __WAN_STUDIO_VERSION__ : '0.0.0-dev';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** false once stderr is known to be closed (a pipe whose reader went away): failures then go to stdout. */
  errOpen?: () => boolean;
}

/** For tests: shorter waits than a real outage calls for. Not reachable from the command line. */
export interface RunOptions {
  outage?: Partial<OutagePolicy>;
  retry?: Partial<RetryPolicy>;
  lookup?: Partial<LookupPolicy>;
}

/** How the task of a create whose answer was lost is looked for in the task list. */
export interface LookupPolicy {
  /** Between two looks. */
  intervalMs: number;
  /** After the send, a list with no match is still believed to lag (as the extension's lookup). */
  windowMs: number;
  /** After the send, the CLI stops looking and says what it saw (tasks run 1 to 5 minutes). */
  maxMs: number;
}

const LOOKUP: LookupPolicy = { intervalMs: 15_000, windowMs: 120_000, maxMs: 6 * 60_000 };

class TaskEnded extends Error {
  constructor(readonly task: TaskResponse) {
    super(`task ${task.output.task_id} ended ${task.output.task_status}`);
  }
}

class NotConfigured extends Error {
  override readonly name = 'NotConfigured';
}

/**
 * Where a run is. Once a task exists (`poll`, `download`) it is paid for, so every failure from then on
 * must leave the user able to resume it: the task ID and the `wait` command are always printed.
 */
type Phase = 'setup' | 'create' | 'poll' | 'download';

interface RunContext {
  phase: Phase;
  taskId?: string;
  resume?: string;
  /** More fields for the JSON result of a failure. */
  extra: Record<string, unknown>;
  /** Lines printed after a failure's message. */
  notes: string[];
  /** The `list` command for this endpoint, once a create may have reached the service. */
  lookup?: string;
  /** true once the endpoint has answered: from then on a failure there is not a wrong address. */
  reached?: boolean;
}

/** Refuses an --out that exists as a file. Read-only, so it runs with the other checks of the input. */
async function checkOutDir(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (s && !s.isDirectory()) throw new CliUsageError(`--out ${dir} is a file, not a folder`);
}

/**
 * The video is paid for before it is saved: make sure it can be saved before the create. Makes the
 * folder and writes a small probe file, within a time bound (a hung mount must not stall the run).
 */
async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await probeWritable(dir, OUT_PROBE_TIMEOUT_MS);
  } catch (error) {
    throw new CliUsageError(`--out ${dir} cannot be used as a folder to save videos in (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

const OUT_PROBE_TIMEOUT_MS = 5000;

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}

function describeTask(task: TaskResponse): string {
  const o = task.output;
  if (o.task_status === 'FAILED') return `FAILED: ${o.code ?? 'unknown error'}: ${o.message ?? ''}`.trim();
  if (o.task_status === 'UNKNOWN') return 'UNKNOWN: the task does not exist or is older than 24 hours';
  return o.task_status;
}

/** A word a POSIX shell reads back unchanged. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function waitCommand(taskId: string, outDir: string, common: Common): string {
  return ['wan-video', 'wait', taskId, '--out', outDir, ...common.endpointArgs].map(shellWord).join(' ');
}

function listCommand(common: Common): string {
  return ['wan-video', 'list', '--since', '10m', ...common.endpointArgs].map(shellWord).join(' ');
}

/** A local time with its offset, e.g. 2026-04-25 10:00:05 +08:00. */
function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

function taskLine(t: TaskListItem): string {
  const created = taskCreatedAt(t);
  return `${t.task_id}  ${t.status.padEnd(9)}  ${created ? localTime(created) : String(t.gmt_create ?? '-')}`;
}

/** How far around the create's send time to look: clocks differ, and the service stamps on arrival. */
const LOOKUP_MARGIN_MS = 2 * 60_000;
const LOOKUP_TIMEOUT_MS = 20_000;

/**
 * After a create whose answer was lost: looks in the task list, again and again while that can still
 * change the answer, for the task this run made. A task is called this run's only when its success
 * answer echoes the run's prompt (`orig_prompt`) and its usage fits, and no other task of the window may
 * fit too (the extension decides the same way, src/wan/match.ts). Each task named comes with the
 * command that saves it, so the user can take the paid task instead of paying for another.
 */
async function reportCreatedTasks(
  client: WanClient,
  lost: LostCreate,
  outDir: string,
  common: Common,
  ctx: RunContext,
  io: Io,
  signal: AbortSignal,
  policy: LookupPolicy,
) {
  let from: Date;
  let to: Date;
  let found: TaskListItem[];
  let decision: MatchDecision;
  try {
    for (;;) {
      from = new Date(lost.sentAt - LOOKUP_MARGIN_MS);
      to = new Date(Date.now() + LOOKUP_MARGIN_MS);
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]);
      found = await findTasksCreatedBetween(client, from, to, { signal: bounded });
      const listed = found
        .map((t) => ({ taskId: t.task_id, status: t.status, createdAt: taskCreatedAt(t)?.getTime() }))
        .sort((a, b) => Math.abs((a.createdAt ?? 0) - lost.sentAt) - Math.abs((b.createdAt ?? 0) - lost.sentAt));
      const candidates = await checkCandidates(client, listed, { signal: bounded });
      decision = decideMatch({ create: lost, rivals: [], candidates, now: Date.now(), windowMs: policy.windowMs });
      if (decision.kind !== 'wait' || Date.now() - lost.sentAt + policy.intervalMs > policy.maxMs) break;
      io.err(
        decision.reason === 'window'
          ? `No task in the list has this run's prompt yet (lists can lag); looking again in ${Math.ceil(policy.intervalMs / 1000)} s…`
          : `${decision.open.length} task(s) created around this run's create have not ended; the service shows a task's prompt only when it succeeds. Looking again in ${Math.ceil(policy.intervalMs / 1000)} s…`,
      );
      await sleep(policy.intervalMs, signal);
    }
  } catch (error) {
    if (signal.aborted) throw error;
    ctx.extra.candidates_error = explainError(error).message;
    ctx.notes.push(`The task list could not be read (${explainError(error).message}). Before trying again, check with: ${listCommand(common)}`);
    return;
  }
  const between = `between ${localTime(from)} and ${localTime(to)}`;
  const byId = new Map(found.map((t) => [t.task_id, t]));
  const named = decision.kind === 'adopt' ? [decision.taskId] : decision.kind === 'wait' && decision.open.length > 0 ? decision.open : decision.fitting;
  ctx.extra.candidates = named.map((id) => ({
    task_id: id,
    status: byId.get(id)?.status,
    gmt_create: byId.get(id)?.gmt_create,
    resume: waitCommand(id, outDir, common),
  }));
  if (decision.kind === 'adopt') ctx.extra.task_id = decision.taskId;
  const lag = `Lists can lag: check again in a minute with ${listCommand(common)} before trying again.`;
  if (named.length === 0) {
    ctx.notes.push(
      found.length === 0
        ? `No task of this model was created ${between}, as far as the task list shows now. ${lag}`
        : `None of the ${found.length} task(s) of this model created ${between} has this run's prompt, duration and resolution: they are other runs'. ${lag}`,
    );
    return;
  }
  ctx.notes.push(
    decision.kind === 'adopt'
      ? `This task, created ${between}, echoes this run's prompt, duration and resolution: it is this run's. Save it instead of paying for another:`
      : decision.kind === 'wait'
        ? `These ${named.length} task(s) of this model, created ${between}, have not ended, and the service shows a task's prompt only when it succeeds: one may be this run's. Save it instead of paying for another (wan-video status <ID> says when it ended):`
        : `These ${named.length} task(s) of this model, created ${between}, fit this run equally (same prompt, duration and resolution): one is this run's. Save it instead of paying for another:`,
  );
  for (const id of named) {
    const t = byId.get(id);
    ctx.notes.push(`  ${t ? taskLine(t) : id}`, `    ${waitCommand(id, outDir, common)}`);
  }
}

interface Failure {
  exitCode: number;
  code: string;
  message: string;
  hint?: string;
}

/** The stop signal a run was aborted by (see the `require.main` block); SIGINT when it names none. */
function stopSignalOf(signal: AbortSignal): StopSignal {
  const name = (signal.reason as { signal?: unknown } | undefined)?.signal;
  return typeof name === 'string' && name in STOP_SIGNALS ? (name as StopSignal) : 'SIGINT';
}

function classify(error: unknown, ctx: RunContext, signal: AbortSignal): Failure {
  if (signal.aborted || isAbort(error)) {
    const by = stopSignalOf(signal);
    const stopped = by === 'SIGINT' ? 'Interrupted' : `Stopped by ${by}`;
    const message =
      ctx.phase === 'create'
        ? `${stopped} while creating the task: it may have reached the service (and be billed). Check with \`${ctx.lookup ?? 'wan-video list --since 10m'}\` before trying again.`
        : ctx.taskId
          ? `${stopped}. Task ${ctx.taskId} goes on at the service.`
          : `${stopped} before anything was created.`;
    return { exitCode: STOP_SIGNALS[by], code: 'Interrupted', message };
  }
  if (error instanceof CliUsageError) return { exitCode: EXIT.invalidInput, code: 'InvalidArguments', message: error.message };
  if (error instanceof NotConfigured) return { exitCode: EXIT.notConfigured, code: 'NotConfigured', message: error.message };
  if (error instanceof WanConfigError) {
    return { exitCode: EXIT.notConfigured, code: error.code, message: `DASHSCOPE_API_KEY: ${error.message}` };
  }
  if (error instanceof TaskEnded) {
    const o = error.task.output;
    const code = (o.task_status === 'FAILED' && o.code) || `Task${o.task_status[0]}${o.task_status.slice(1).toLowerCase()}`;
    return { exitCode: EXIT.taskNotSucceeded, code, message: `Task ${o.task_id} ${describeTask(error.task)}` };
  }
  const explained = explainError(error);
  const failure = (exitCode: number): Failure => ({ exitCode, ...explained });
  if (error instanceof WanValidationError) return failure(EXIT.invalidInput);
  // The task exists and is paid for: whatever went wrong, `wait` picks it up again.
  if (ctx.phase === 'download') return failure(EXIT.downloadFailed);
  if (ctx.phase === 'poll') return failure(EXIT.networkError);
  if (error instanceof WanAmbiguousCreateError) return failure(EXIT.createOutcomeUnknown);
  if (error instanceof WanApiError) return failure(EXIT.apiError);
  if (error instanceof WanNetworkError) return failure(EXIT.networkError);
  return failure(EXIT.unexpected);
}

async function pollAndSave(
  client: WanClient,
  taskId: string,
  outDir: string,
  common: Common,
  io: Io,
  signal: AbortSignal,
  ctx: RunContext,
  learned?: PollSchedule,
) {
  const started = Date.now();
  let last = '';
  const task = await client.waitForTask(taskId, {
    ...(common.pollIntervalMs !== undefined ? { intervalMs: common.pollIntervalMs } : learned ? { schedule: learned } : {}),
    signal,
    onUpdate: (t) => {
      const status = t.output.task_status;
      ctx.reached = true;
      if (status !== last) io.err(`${status} after ${Math.round((Date.now() - started) / 1000)} s`);
      last = status;
    },
  });
  if (task.output.task_status !== 'SUCCEEDED') {
    // An ended task has nothing to resume: no `wait` command, no "goes on at the service".
    ctx.resume = undefined;
    throw new TaskEnded(task);
  }
  ctx.phase = 'download';
  const dest = join(outDir, `wan-${taskId}.mp4`);
  let shown = -1;
  const seconds = expectedVideoSeconds(task.usage);
  const saved = await client.downloadVideo(task.output.video_url, dest, {
    signal,
    ...(seconds !== undefined ? { expectedSeconds: seconds } : {}),
    onProgress: ({ receivedBytes, totalBytes }) => {
      const pct = totalBytes ? Math.floor((receivedBytes / totalBytes) * 10) * 10 : -1;
      if (pct !== shown && pct >= 0) io.err(`Downloading… ${pct}%`);
      shown = pct;
    },
  });
  if (saved.kept) io.err(`${dest} was already saved in full (${saved.bytes} bytes), by another run: kept it.`);
  if (saved.expectedBytes === undefined) {
    const lasts = seconds !== undefined ? ` lasting the ${seconds} s the task reports` : '';
    io.err(`The storage host did not say how long the video is, so its length in bytes could not be checked; it was checked as a complete MP4${lasts}.`);
  }
  return { task, dest, bytes: saved.bytes, kept: saved.kept, lengthChecked: saved.expectedBytes !== undefined };
}

export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: Io,
  signal: AbortSignal,
  cwd = process.cwd(),
  options: RunOptions = {},
): Promise<number> {
  let json = wantsJson(argv);
  const ctx: RunContext = { phase: 'setup', extra: {}, notes: [] };
  const succeed = (text: string, result: Record<string, unknown>): number => {
    io.out(json ? JSON.stringify({ exit_code: EXIT.ok, ...result }) : text);
    return EXIT.ok;
  };
  let client: WanClient | undefined;
  try {
    const command = parseCommand(argv, env, cwd);
    if (command.kind === 'help') {
      io.out(json ? JSON.stringify({ exit_code: EXIT.ok, usage: USAGE }) : USAGE);
      return EXIT.ok;
    }
    if (command.kind === 'version') {
      io.out(json ? JSON.stringify({ exit_code: EXIT.ok, version: CLI_VERSION }) : CLI_VERSION);
      return EXIT.ok;
    }
    const { common } = command;
    json = common.json;
    const wrongAddress =
      `No answer from ${common.baseUrl} yet. If this goes on, the address may be wrong: check --base-url or --region ` +
      '(the region the task was created in). Waiting continues while the task can live; Ctrl-C stops it.';
    const apiKey = env.DASHSCOPE_API_KEY?.trim();
    if (!apiKey) throw new NotConfigured('DASHSCOPE_API_KEY is not set: export your Model Studio API key (same region as the endpoint).');
    client = new WanClient({
      baseUrl: common.baseUrl,
      apiKey,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.outage ? { outage: options.outage } : {}),
      onEvent: (e) => {
        if (e.kind !== 'retry') return;
        io.err(`${e.what}: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`);
        if (ctx.phase === 'poll' && !ctx.reached && suggestsWrongAddress(e.error) && !ctx.notes.includes(wrongAddress)) {
          // A wrong address fails the same way for the task's 24 hours: say so now, not at the end.
          ctx.notes.push(wrongAddress);
          io.err(wrongAddress);
        }
      },
    });
    const c = client;
    switch (command.kind) {
      case 'status': {
        const task = await c.getTask(command.taskId, { signal });
        return succeed(describeTask(task), { ...task });
      }
      case 'cancel': {
        await c.cancelTask(command.taskId, { signal });
        return succeed(`Canceled ${command.taskId}`, { task_id: command.taskId, canceled: true });
      }
      case 'wait': {
        await checkOutDir(command.outDir);
        await ensureWritableDir(command.outDir);
        Object.assign(ctx, { phase: 'poll', taskId: command.taskId, resume: waitCommand(command.taskId, command.outDir, common) });
        const saved = await pollAndSave(c, command.taskId, command.outDir, common, io, signal, ctx);
        return succeed(saved.dest, {
          task_id: command.taskId,
          file: saved.dest,
          bytes: saved.bytes,
          kept_existing: saved.kept,
          length_checked: saved.lengthChecked,
        });
      }
      case 'generate': {
        await checkOutDir(command.outDir);
        // prepareRequest checks every input before its first upload; the folder comes after those
        // checks and before anything is uploaded or created.
        let outReady: Promise<void> | undefined;
        const prepareOut = () => (outReady ??= ensureWritableDir(command.outDir));
        const prepared = await prepareRequest(command.input, async (path) => {
          await prepareOut();
          io.err(`Uploading ${path}…`);
          return c.uploadFile(path, { signal });
        });
        await prepareOut();
        const size = prepared.outputSize ? `, about ${prepared.outputSize.width}x${prepared.outputSize.height}` : '';
        io.err(`Creating a ${prepared.duration} s ${prepared.resolution} video${size} (billed ${prepared.billedSeconds} s)…`);
        // The videos already in the folder (their .json records) say when a task like this one ends.
        const learning = learnedScheduleFor(command.outDir, command.input);
        ctx.phase = 'create';
        ctx.lookup = listCommand(common);
        const sentAt = Date.now();
        let created;
        try {
          created = await c.createTask(prepared.body, { signal });
        } catch (error) {
          if (error instanceof WanAmbiguousCreateError && !signal.aborted) {
            const lost = { key: 'this run', prompt: command.input.prompt, duration: prepared.duration, resolution: prepared.resolution, sentAt };
            await reportCreatedTasks(c, lost, command.outDir, common, ctx, io, signal, { ...LOOKUP, ...options.lookup });
          }
          throw error;
        }
        const taskId = created.output.task_id;
        Object.assign(ctx, { phase: 'poll', reached: true, taskId, resume: waitCommand(taskId, command.outDir, common) });
        io.err(`Task ${taskId} created. If this stops, resume with: ${ctx.resume}`);
        const { schedule, window } = await learning;
        if (window && common.pollIntervalMs === undefined) {
          io.err(`Tasks like this one usually end ${Math.round(window.loMs / 1000)}-${Math.round(window.hiMs / 1000)} s after submission (learned from ${window.samples} earlier videos in ${command.outDir}): checking often then.`);
        }
        const saved = await pollAndSave(c, taskId, command.outDir, common, io, signal, ctx, schedule);
        return succeed(saved.dest, {
          task_id: taskId,
          file: saved.dest,
          bytes: saved.bytes,
          kept_existing: saved.kept,
          length_checked: saved.lengthChecked,
          usage: saved.task.usage,
          output_size: prepared.outputSize,
        });
      }
      case 'list': {
        const { filter } = command;
        const pageSize = Math.min(filter.limit, 50);
        const { tasks, total } = await listAllTasks(
          c,
          { startTime: filter.since, endTime: filter.until, modelName: MODEL, status: filter.status },
          { signal, pageSize, maxPages: Math.ceil(filter.limit / pageSize) },
        );
        const shown = tasks.slice(0, filter.limit);
        if (shown.length === 0) io.err('No tasks found.');
        else if (total > shown.length) io.err(`Showing ${shown.length} of ${total} tasks; raise --limit to see more.`);
        if (json) {
          const rows = shown.map((t) => ({ ...t, created_at: taskCreatedAt(t)?.toISOString() }));
          return succeed('', { total, tasks: rows });
        }
        for (const t of shown) io.out(taskLine(t));
        return EXIT.ok;
      }
      default:
        return assertNever(command);
    }
  } catch (error) {
    const f = classify(error, ctx, signal);
    const lines = [`wan-video: ${f.message}`];
    if (f.hint) lines.push(f.hint);
    if (ctx.resume && (ctx.phase === 'poll' || ctx.phase === 'download')) {
      const state = ctx.phase === 'download' ? 'succeeded; its video stays downloadable for 24 hours' : 'goes on at the service';
      lines.push(`Task ${ctx.taskId} ${state}. Resume with: ${ctx.resume}`);
    }
    lines.push(...ctx.notes);
    if (error instanceof CliUsageError) lines.push('', USAGE);
    // With stderr closed, stdout carries the failure, so a task ID is never lost where it can be written.
    if (!json && io.errOpen?.() === false) io.out(lines.join('\n'));
    else io.err(lines.join('\n'));
    if (json) {
      io.out(
        JSON.stringify({
          exit_code: f.exitCode,
          code: f.code,
          message: f.message,
          ...(f.hint ? { hint: f.hint } : {}),
          ...(ctx.taskId ? { task_id: ctx.taskId } : {}),
          ...(ctx.resume && ctx.phase !== 'create' ? { resume: ctx.resume } : {}),
          ...(f.code === 'Interrupted' ? { signal: stopSignalOf(signal) } : {}),
          ...ctx.extra,
        }),
      );
    }
    return f.exitCode;
  } finally {
    await client?.close();
  }
}

/**
 * Writes lines to `stream` until it is closed (a pipe whose reader exited, like `| head`, or a closed
 * terminal), then drops them: a paid task must not be lost because nobody reads its progress. The
 * 'error' listener keeps an EPIPE from becoming an uncaught exception.
 */
function lineWriter(stream: NodeJS.WriteStream): { write: (line: string) => void; open: () => boolean } {
  let open = true;
  stream.on('error', () => (open = false));
  return {
    write: (line) => {
      if (open && !stream.destroyed) stream.write(`${line}\n`, (error) => error && (open = false));
    },
    open: () => open && !stream.destroyed,
  };
}

if (require.main === module) {
  const controller = new AbortController();
  // SIGTERM (timeout, CI cancellation, docker stop) and SIGHUP (a closed terminal) stop a run as Ctrl-C
  // does. Once: a second signal (the user insisting, or a supervisor's deadline) ends the process at once.
  const stop = (name: NodeJS.Signals) => {
    for (const s of Object.keys(STOP_SIGNALS) as StopSignal[]) process.removeListener(s, stop);
    controller.abort(Object.assign(new Error('Interrupted'), { name: 'AbortError', signal: name }));
  };
  for (const s of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(s, stop);
  const stdout = lineWriter(process.stdout);
  const stderr = lineWriter(process.stderr);
  const io: Io = { out: stdout.write, err: stderr.write, errOpen: stderr.open };
  run(process.argv.slice(2), process.env, io, controller.signal).then(
    (code) => (process.exitCode = code),
    (error) => {
      stderr.write(`wan-video: unexpected error: ${(error as Error).stack ?? error}`);
      process.exitCode = EXIT.unexpected;
    },
  );
}
