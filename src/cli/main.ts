// wan-video: the protocol core on the command line. Progress goes to stderr; the saved path (or
// --json) to stdout, so scripts can capture it.
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanClient,
  WanNetworkError,
  WanValidationError,
  explainError,
  prepareRequest,
  type TaskResponse,
} from '../wan';
import { CliUsageError, USAGE, parseCommand, type Common } from './args';
import { EXIT } from './exitCodes';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

class TaskEnded extends Error {
  constructor(readonly task: TaskResponse) {
    super(`task ${task.output.task_id} ended ${task.output.task_status}`);
  }
}

/** The video is paid for before it is saved: make sure it can be saved before anything is sent. */
async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new CliUsageError(`--out ${dir} cannot be used as a folder to save videos in (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CliUsageError || error instanceof WanValidationError) return EXIT.invalidInput;
  if (error instanceof WanAmbiguousCreateError) return EXIT.createOutcomeUnknown;
  if (error instanceof TaskEnded) return EXIT.taskNotSucceeded;
  if (error instanceof WanApiError) return EXIT.apiError;
  if (error instanceof WanNetworkError) return EXIT.networkError;
  if ((error as { name?: string })?.name === 'AbortError') return EXIT.interrupted;
  return EXIT.unexpected;
}

function describeTask(task: TaskResponse): string {
  const o = task.output;
  if (o.task_status === 'FAILED') return `FAILED: ${o.code ?? 'unknown error'}: ${o.message ?? ''}`.trim();
  if (o.task_status === 'UNKNOWN') return 'UNKNOWN: the task does not exist or is older than 24 hours';
  return o.task_status;
}

async function pollAndSave(client: WanClient, taskId: string, outDir: string, common: Common, io: Io, signal: AbortSignal) {
  const started = Date.now();
  let last = '';
  const task = await client.waitForTask(taskId, {
    intervalMs: common.pollIntervalMs,
    signal,
    onUpdate: (t) => {
      const status = t.output.task_status;
      if (status !== last) io.err(`${status} after ${Math.round((Date.now() - started) / 1000)} s`);
      last = status;
    },
  });
  if (task.output.task_status !== 'SUCCEEDED') throw new TaskEnded(task);
  const dest = join(outDir, `wan-${taskId}.mp4`);
  let shown = -1;
  try {
    const { bytes } = await client.downloadVideo(task.output.video_url, dest, {
      signal,
      onProgress: ({ receivedBytes, totalBytes }) => {
        const pct = totalBytes ? Math.floor((receivedBytes / totalBytes) * 10) * 10 : -1;
        if (pct !== shown && pct >= 0) io.err(`Downloading… ${pct}%`);
        shown = pct;
      },
    });
    return { task, dest, bytes };
  } catch (error) {
    io.err(`The task succeeded, but saving the video failed. Retry with: wan-video wait ${taskId} --out ${outDir}`);
    throw Object.assign(error as Error, { downloadFailed: true });
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, io: Io, signal: AbortSignal, cwd = process.cwd()): Promise<number> {
  let client: WanClient | undefined;
  try {
    const command = parseCommand(argv, env, cwd);
    if (command.kind === 'help') {
      io.out(USAGE);
      return EXIT.ok;
    }
    const apiKey = env.DASHSCOPE_API_KEY?.trim();
    if (!apiKey) {
      io.err('DASHSCOPE_API_KEY is not set: export your Model Studio API key (same region as the endpoint).');
      return EXIT.notConfigured;
    }
    client = new WanClient({
      baseUrl: command.common.baseUrl,
      apiKey,
      onEvent: (e) => e.kind === 'retry' && io.err(`${e.what}: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`),
    });
    const c = client;
    const { common } = command;
    switch (command.kind) {
      case 'status': {
        const task = await c.getTask(command.taskId, { signal });
        io.out(common.json ? JSON.stringify(task) : describeTask(task));
        return EXIT.ok;
      }
      case 'cancel': {
        await c.cancelTask(command.taskId, { signal });
        io.out(common.json ? JSON.stringify({ task_id: command.taskId, canceled: true }) : `Canceled ${command.taskId}`);
        return EXIT.ok;
      }
      case 'wait': {
        await ensureWritableDir(command.outDir);
        const saved = await pollAndSave(c, command.taskId, command.outDir, common, io, signal);
        io.out(common.json ? JSON.stringify({ task_id: command.taskId, file: saved.dest, bytes: saved.bytes }) : saved.dest);
        return EXIT.ok;
      }
      case 'generate': {
        await ensureWritableDir(command.outDir);
        const prepared = await prepareRequest(command.input, (path) => {
          io.err(`Uploading ${path}…`);
          return c.uploadFile(path, { signal });
        });
        const size = prepared.outputSize ? `, about ${prepared.outputSize.width}x${prepared.outputSize.height}` : '';
        io.err(`Creating a ${prepared.duration} s ${prepared.resolution} video${size} (billed ${prepared.billedSeconds} s)…`);
        let created;
        try {
          created = await c.createTask(prepared.body, { signal });
        } catch (error) {
          if (signal.aborted) {
            io.err('Interrupted while creating the task: it may have reached the service. Check your recent tasks before trying again.');
          }
          throw error;
        }
        const taskId = created.output.task_id;
        io.err(`Task ${taskId} created. If this stops, resume with: wan-video wait ${taskId} --out ${command.outDir}`);
        const saved = await pollAndSave(c, taskId, command.outDir, common, io, signal);
        const usage = saved.task.usage;
        io.out(
          common.json
            ? JSON.stringify({ task_id: taskId, file: saved.dest, bytes: saved.bytes, usage, output_size: prepared.outputSize })
            : saved.dest,
        );
        return EXIT.ok;
      }
      default:
        return assertNever(command);
    }
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`wan-video: ${error.message}\n\n${USAGE}`);
      return EXIT.invalidInput;
    }
    if (error instanceof TaskEnded) {
      io.err(`Task ${describeTask(error.task)}`);
      return EXIT.taskNotSucceeded;
    }
    const { message, hint } = explainError(error);
    io.err(`wan-video: ${message}${hint ? `\n${hint}` : ''}`);
    if ((error as { downloadFailed?: boolean }).downloadFailed) return EXIT.downloadFailed;
    return exitCodeFor(error);
  } finally {
    await client?.close();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(Object.assign(new Error('Interrupted'), { name: 'AbortError' })));
  const io: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  run(process.argv.slice(2), process.env, io, controller.signal).then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`wan-video: unexpected error: ${(error as Error).stack ?? error}\n`);
      process.exitCode = EXIT.unexpected;
    },
  );
}
