// wan-video: the protocol core on the command line. Progress goes to stderr; stdout gets the saved
// path, or with --json exactly one JSON object on every exit, so scripts can capture it.
import {
  WanAmbiguousCreateError,
  WanClient,
  MODEL,
  listAllTasks,
  prepareRequest,
  suggestsWrongAddress,
  taskCreatedAt,
  type OutagePolicy,
  type RetryPolicy,
} from '../wan';
import { learnedScheduleFor } from '../tasks/schedule';
import { rehearsalSource } from '../tasks/rehearsal';
import { CliUsageError, USAGE, parseCommand, wantsJson } from './args';
import { EXIT, STOP_SIGNALS, type StopSignal } from './exitCodes';
import { NotConfigured, classify, stopSignalOf } from './failure';
import { LOOKUP, reportCreatedTasks, type LookupPolicy } from './lostCreate';
import type { Io, RunContext } from './runContext';
import { boardPlan, boardRun } from './board';
import { runEndpoint } from './endpoint';
import { checkOutDir, ensureWritableDir, pollAndSave } from './save';
import { folderSpend, spendLine } from './spend';
import { describeTask, listCommand, taskLine, waitCommand } from './text';

export type { Io } from './runContext';
export type { LookupPolicy } from './lostCreate';

declare const __WAN_STUDIO_VERSION__: string | undefined;
/** The package version, put in by the bundler (esbuild.mjs `define`); "0.0.0-dev" when run unbundled. */
export const CLI_VERSION = typeof __WAN_STUDIO_VERSION__ === 'string' ? __WAN_STUDIO_VERSION__ : '0.0.0-dev';

/** For tests: shorter waits than a real outage calls for. Not reachable from the command line. */
export interface RunOptions {
  outage?: Partial<OutagePolicy>;
  retry?: Partial<RetryPolicy>;
  lookup?: Partial<LookupPolicy>;
}

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
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
    if (command.kind === 'board-plan') {
      // Pays nothing and needs no key: the plan is worked out locally.
      json = command.json;
      const planned = await boardPlan(command.file, command.outDir, command.baseUrl === undefined ? undefined : await runEndpoint(command.baseUrl, io));
      if (planned.result.ready) return succeed(planned.text, planned.result);
      // Printed in full, but a board that cannot be sent fails a script's check.
      io.out(json ? JSON.stringify({ exit_code: EXIT.invalidInput, code: 'InvalidBoard', ...planned.result }) : planned.text);
      return EXIT.invalidInput;
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
        const endpoint = await runEndpoint(common.baseUrl, io);
        const saved = await pollAndSave(c, command.taskId, command.outDir, common, io, signal, ctx, { endpoint, request: {} });
        return succeed(saved.dest, {
          task_id: command.taskId,
          rehearsal: endpoint.kind === 'emulator',
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
        const endpoint = await runEndpoint(common.baseUrl, io);
        // The record beside an input tells a rehearsal's video, or a frame of one: worth a note before paying for it.
        for (const source of endpoint.kind === 'emulator' ? [] : [command.input.firstClip, command.input.firstFrame, command.input.lastFrame]) {
          const kind = source === undefined ? undefined : await rehearsalSource(source);
          if (kind) io.err(`Note: ${source} is ${kind === 'clip' ? 'a rehearsal video' : 'a frame of a rehearsal video'} (the emulator made it, stamped REHEARSAL, not the Wan model); a paid endpoint bills this request, and the model gets the stand-in, label and all.`);
        }
        const prepared = await prepareRequest(command.input, async (path) => {
          await prepareOut();
          io.err(`Uploading ${path}…`);
          return c.uploadFile(path, { signal });
        });
        await prepareOut();
        const size = prepared.outputSize ? `, about ${prepared.outputSize.width}x${prepared.outputSize.height}` : '';
        io.err(`Creating a ${prepared.duration} s ${prepared.resolution} video${size} (billed ${prepared.billedSeconds} s)…`);
        // The videos already in the folder made on this endpoint (their .json records) say when a task like this one ends.
        const learning = learnedScheduleFor(command.outDir, endpoint, command.input);
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
          io.err(`Tasks like this one usually end ${Math.round(window.loMs / 1000)}-${Math.round(window.hiMs / 1000)} s after submission (learned from ${window.samples} earlier videos of this endpoint in ${command.outDir}): checking often then.`);
        }
        const made = { endpoint, request: command.input, requestId: created.request_id, outputSize: prepared.outputSize };
        const saved = await pollAndSave(c, taskId, command.outDir, common, io, signal, ctx, made, schedule);
        return succeed(saved.dest, {
          task_id: taskId,
          rehearsal: endpoint.kind === 'emulator',
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
        const spend = command.spendDir ? await folderSpend(command.spendDir, Date.now()) : undefined;
        if (json) {
          const rows = shown.map((t) => ({ ...t, created_at: taskCreatedAt(t)?.toISOString() }));
          return succeed('', { total, tasks: rows, ...(spend ? { spend: { ...spend.seconds, records: spend.records } } : {}) });
        }
        for (const t of shown) io.out(taskLine(t));
        if (spend && command.spendDir) io.out(spendLine(spend, command.spendDir));
        return EXIT.ok;
      }
      case 'board-run': {
        await checkOutDir(command.outDir);
        const ran = await boardRun(c, command.file, command.outDir, common, await runEndpoint(common.baseUrl, io), io, signal, ctx);
        return succeed(ran.text, ran.result);
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
