// The output folder checked before anything is paid for, then the task followed to its end and its video saved.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WanClient, expectedVideoSeconds, type TaskResponse, probeWritable, type PollSchedule, type Size } from '../wan';
import type { EndpointRef, ShotLink, TaskRequest } from '../tasks/record';
import { parseSidecar, sidecarFor, sidecarPathOf, writeSidecar } from '../tasks/sidecar';
import { CliUsageError, type Common } from './args';
import { TaskEnded } from './failure';
import type { Io, RunContext } from './runContext';

/** Refuses an --out that exists as a file. Read-only, so it runs with the other checks of the input. */
export async function checkOutDir(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (s && !s.isDirectory()) throw new CliUsageError(`--out ${dir} is a file, not a folder`);
}

/**
 * The video is paid for before it is saved: make sure it can be saved before the create. Makes the
 * folder and writes a small probe file, within a time bound (a hung mount must not stall the run).
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await probeWritable(dir, OUT_PROBE_TIMEOUT_MS);
  } catch (error) {
    throw new CliUsageError(`--out ${dir} cannot be used as a folder to save videos in (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

const OUT_PROBE_TIMEOUT_MS = 5000;

export async function pollAndSave(
  client: WanClient,
  taskId: string,
  outDir: string,
  common: Common,
  io: Io,
  signal: AbortSignal,
  ctx: RunContext,
  made: RunFacts,
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
  // A video already saved in full keeps the record its first run wrote: `wait` knows nothing of the request.
  const keptRecord = saved.kept && (await recordNames(sidecarPathOf(dest), taskId));
  if (!keptRecord) await writeRunRecord(dest, saved.bytes, task, made, io);
  if (saved.kept) io.err(`${dest} was already saved in full (${saved.bytes} bytes): kept it${keptRecord ? ', and its record' : ''}.`);
  if (saved.expectedBytes === undefined) {
    const lasts = seconds !== undefined ? ` lasting the ${seconds} s the task reports` : '';
    io.err(`The storage host did not say how long the video is, so its length in bytes could not be checked; it was checked as a complete MP4${lasts}.`);
  }
  return { task, dest, bytes: saved.bytes, kept: saved.kept, lengthChecked: saved.expectedBytes !== undefined };
}

/** True when the record at `path` is one of `taskId` (a run saved its video before). */
async function recordNames(path: string, taskId: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text !== undefined && parseSidecar(text)?.task_id === taskId;
}

/** What the run knows of the task it saves: where it was sent, the request as asked (`wait` knows none), the create's request ID. */
export interface RunFacts {
  endpoint: EndpointRef;
  request: TaskRequest;
  requestId?: string;
  outputSize?: Size;
  /** A storyboard's shot: its record names it, so the next run finds the clip by its content. */
  shot?: ShotLink;
}

/**
 * The record beside the video, as the extension writes it: the Gallery lists the video with its prompt, a
 * later run learns its timing, and spend figures read its usage. Inline data: sources are left out (a record
 * never holds image data). A record that cannot be written costs a note, never the saved video.
 */
async function writeRunRecord(dest: string, bytes: number, task: TaskResponse, made: RunFacts, io: Io): Promise<void> {
  const request = Object.fromEntries(Object.entries(made.request).filter(([, v]) => !(typeof v === 'string' && /^data:/i.test(v)))) as TaskRequest;
  const o = task.output;
  const record = sidecarFor(
    {
      request,
      endpoint: made.endpoint,
      taskId: o.task_id,
      requestId: made.requestId ?? task.request_id,
      origPrompt: o.orig_prompt,
      usage: task.usage,
      outputSize: made.outputSize,
      submitTime: o.submit_time,
      endTime: o.end_time,
      shot: made.shot,
    },
    dest,
    bytes,
  );
  try {
    await writeSidecar(sidecarPathOf(dest), record);
  } catch (error) {
    io.err(`The video is saved, but its record ${sidecarPathOf(dest)} could not be written (${(error as NodeJS.ErrnoException).code ?? String(error)}).`);
  }
}
