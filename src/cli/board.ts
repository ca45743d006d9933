// `wan-video board plan FILE` and `wan-video board run FILE --out DIR`: the storyboard core on the command
// line. The CLI keeps no task list: a shot's clip is known by the record written beside it in --out (the same
// `.json` the extension writes, with the shot's content key), so a second run pays only for what is missing.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { BoardNotReady, runBoard, type RunResult } from '../storyboard/run';
import { readAndPlan, type BoardReading } from '../storyboard/facts';
import { assembleBoard, currentFilm } from '../storyboard/film';
import { planJson, planText, problemLine } from '../storyboard/format';
import type { EndpointRef, ShotLink } from '../tasks/record';
import { WanValidationError, prepareRequest, type WanClient } from '../wan';
import { REGION_BASE_URLS } from '../wan/regions';
import type { GenerationInput } from '../wan/request';
import { CliUsageError, type Common } from './args';
import type { Io, RunContext } from './runContext';
import { ensureWritableDir, pollAndSave } from './save';

/** The temporary upload is documented for Beijing only: a Singapore endpoint cannot take local audio. */
export function uploadsLocalAudio(baseUrl: string | undefined): boolean {
  return !baseUrl || (baseUrl !== REGION_BASE_URLS.singapore && !/\.ap-southeast-1\.maas\.aliyuncs\.com$/i.test(baseUrl));
}

/** `endpoint`: where the board would be sent; none for a plan made without --base-url or --region (a paid one). */
async function readBoard(file: string, outDir: string | undefined, endpoint: EndpointRef | undefined): Promise<Extract<BoardReading, { ok: true }>> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new CliUsageError(`${file} cannot be read (${e.code ?? e.message})`);
  });
  // A rehearsal's clips in --out (the extension's, or this CLI's against the emulator) are a film only for a rehearsal.
  const reading = await readAndPlan(text, file, {
    records: [],
    folders: outDir ? [outDir] : [],
    canUploadAudio: uploadsLocalAudio(endpoint?.baseUrl),
    rehearsal: endpoint?.kind === 'emulator',
  });
  if (!reading.ok) throw new WanValidationError(reading.problems.map((p) => ({ field: basename(file), message: problemLine(p) })));
  return reading;
}

/** `board plan FILE [--out DIR]`: the plan and its bill; with --out, the clips already there count as made. */
export async function boardPlan(file: string, outDir: string | undefined, endpoint: EndpointRef | undefined): Promise<{ text: string; result: Record<string, unknown> }> {
  const { board, plan } = await readBoard(file, outDir, endpoint);
  return { text: planText(basename(file), board, plan), result: planJson(plan) };
}

/** `board run FILE --out DIR`: generates what is missing (clips saved in --out with their records), then assembles the film beside the board. */
export async function boardRun(
  client: WanClient,
  file: string,
  outDir: string,
  common: Common,
  endpoint: EndpointRef,
  io: Io,
  signal: AbortSignal,
  ctx: RunContext,
): Promise<{ text: string; result: Record<string, unknown> }> {
  const reading = await readBoard(file, outDir, endpoint);
  const { board, plan, facts } = reading;
  if (!plan.ready) {
    throw new WanValidationError([...plan.problems, ...plan.shots.flatMap((s) => s.problems)].map((p) => ({ field: basename(file), message: problemLine(p) })));
  }
  io.err(planText(basename(file), board, plan));
  if (plan.sends.length > 0) await ensureWritableDir(outDir);
  const pending = new Map<string, { input: GenerationInput; shot: ShotLink }>();
  const errors = new Map<string, unknown>();
  let result: RunResult;
  // The CLI's own folder for the cuts, gone once the run ends however it ends.
  const workDir = await mkdtemp(join(tmpdir(), 'wan-board-'));
  try {
    result = await runBoard(plan, facts, {
      submit: async (input, shot) => {
        const prepared = await prepareRequest(input, (path) => {
          io.err(`Uploading ${path}…`);
          return client.uploadFile(path, { signal });
        });
        io.err(`Shot ${shot.shotId}: creating a ${prepared.duration} s ${prepared.resolution} video (billed ${prepared.billedSeconds} s)…`);
        const created = await client.createTask(prepared.body, { signal }).catch((e: unknown) => {
          errors.set(shot.shotId, e);
          throw e;
        });
        const taskId = created.output.task_id;
        io.err(`Shot ${shot.shotId}: task ${taskId} created`);
        pending.set(taskId, { input, shot });
        return taskId;
      },
      waitForVideo: async (taskId) => {
        const sent = pending.get(taskId)!;
        const own: RunContext = { phase: 'poll', taskId, extra: {}, notes: [], reached: true };
        try {
          const saved = await pollAndSave(client, taskId, outDir, common, io, signal, own, { endpoint, request: sent.input, shot: sent.shot });
          io.err(`Shot ${sent.shot.shotId}: saved ${saved.dest}`);
          return { video: saved.dest, taskId };
        } catch (e) {
          errors.set(sent.shot.shotId, e);
          Object.assign(ctx, { phase: own.phase, taskId, resume: own.resume });
          throw e;
        }
      },
    }, { boardPath: file, boardDir: dirname(file), workDir, signal });
  } catch (e) {
    if (e instanceof BoardNotReady) throw new WanValidationError(e.problems.map((message) => ({ field: basename(file), message })));
    throw e;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  if (result.failed.length > 0) {
    const first = result.failed[0]!;
    for (const f of result.failed) io.err(`Shot ${f.shotId} was not made: ${f.error}`);
    const error = errors.get(first.shotId);
    throw error instanceof Error ? error : new Error(`shot ${first.shotId} was not made: ${first.error}`);
  }
  const made = await readBoard(file, outDir, endpoint);
  if (!(await currentFilm(made.board, made.plan, file))) io.err(`Assembling ${made.plan.shots.length} shots into a ${made.plan.filmSeconds} s film…`);
  const film = await assembleBoard(made.board, made.plan, file, { signal });
  if (film.upToDate) io.err(`${basename(film.video)} is up to date: nothing changed since it was assembled (its record ${basename(film.record)} lists these shots' clips).`);
  if (film.note) io.err(film.note);
  return {
    text: film.video,
    result: {
      file: film.video,
      record: film.record,
      up_to_date: film.upToDate,
      film_seconds: film.seconds,
      billed_seconds: plan.billedSeconds,
      sent: result.sent.map((s) => ({ shot: s.shotId, task_id: s.taskId })),
      shots: made.plan.shots.map((s) => ({ id: s.id, task_id: s.made?.taskId, clip: s.made?.video })),
    },
  };
}
