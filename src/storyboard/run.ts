// Runs a board's plan through injected functions (the extension's task service, or the CLI's client): keyframe
// shots are sent at once, a continuation only once the clip it continues is saved (its end cut locally), and
// each shot's task carries its link to the board so its clip is found again by content. No vscode import.
import { join } from 'node:path';
import type { ShotLink } from '../tasks/record';
import type { GenerationInput } from '../wan/request';
import { problemLine } from './format';
import type { BoardFacts } from './facts';
import type { MadeClip, Plan, ShotPlan } from './plan';
import { removeCuts, shotInput } from './prepare';

/** Generate was asked of a board with problems: nothing was sent. */
export class BoardNotReady extends Error {
  constructor(readonly problems: string[]) {
    super(`Nothing was sent: the board has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} to fix first: ${problems.join('; ')}`);
  }
}

export interface RunDeps {
  /** Queues a shot's request through the one submit path (checks, spend caps, records); resolves with its task's id. */
  submit(input: GenerationInput, shot: ShotLink): Promise<string>;
  /** Resolves with the clip once the task's video is saved; rejects when the task ends without one. */
  waitForVideo(taskId: string, signal?: AbortSignal): Promise<MadeClip>;
  /** Told as each shot is queued and as its clip is saved. */
  progress?(event: RunEvent): void;
}

export type RunEvent = { shotId: string; phase: 'queued'; taskId: string } | { shotId: string; phase: 'made'; clip: MadeClip };

export interface RunOptions {
  boardPath: string;
  boardDir: string;
  /** Where continuations' clips and soundtrack slices are cut (each removed once its task has ended, or was never queued). */
  workDir: string;
  /** Stops sending further shots (tasks already queued go on in the task layer). */
  signal?: AbortSignal;
}

export interface RunResult {
  /** Every shot's clip after the run: made before, or made now. */
  clips: Map<string, MadeClip>;
  /** Shots sent now, with their task ids. */
  sent: { shotId: string; taskId: string }[];
  /** Shots that were not made, and why. */
  failed: { shotId: string; error: string }[];
}

export function planProblems(plan: Plan): string[] {
  return [...plan.problems, ...plan.shots.flatMap((s) => s.problems)].map(problemLine);
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('canceled before it was sent');
}

/** Sends `plan.sends` and waits for every clip the board needs; refuses a plan that is not ready. */
export async function runBoard(plan: Plan, facts: BoardFacts, deps: RunDeps, o: RunOptions): Promise<RunResult> {
  if (!plan.ready) throw new BoardNotReady(planProblems(plan));
  const clips = new Map<string, Promise<MadeClip>>();
  for (const s of plan.shots) {
    if (s.made) clips.set(s.id, Promise.resolve(s.made));
    else if (s.state === 'in-flight' && s.key) {
      const task = facts.taskOf(s.key);
      if (task) clips.set(s.id, deps.waitForVideo(task, o.signal));
    }
  }
  // One submit at a time: the spend caps see each shot with the ones queued before it.
  let submitting: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = submitting.then(fn);
    submitting = next.catch(() => undefined);
    return next;
  };
  const sent: RunResult['sent'] = [];
  const send = async (shot: ShotPlan, before: Promise<MadeClip> | undefined): Promise<MadeClip> => {
    const previous = before ? await before.catch((e: unknown) => Promise.reject(new Error(`shot ${shot.after} was not made (${String(e instanceof Error ? e.message : e)})`))) : undefined;
    aborted(o.signal);
    // By content: a queued task of an earlier version of the shot keeps its own cut files.
    const workDir = join(o.workDir, shot.key!);
    let taskId: string;
    try {
      const input = await shotInput(shot.id, shot.request!, {
        boardDir: o.boardDir,
        workDir,
        clipOf: (id) => (id === shot.after ? previous?.video : plan.shots.find((s) => s.id === id)?.made?.video),
      });
      taskId = await serially(() => {
        aborted(o.signal);
        return deps.submit(input, { board: o.boardPath, shotId: shot.id, key: shot.key! });
      });
    } catch (error) {
      // Nothing was queued: nothing will read the cuts.
      await removeCuts(shot.id, workDir);
      throw error;
    }
    sent.push({ shotId: shot.id, taskId });
    deps.progress?.({ shotId: shot.id, phase: 'queued', taskId });
    // The task has read its inputs once it ended; after a cancel it may still be queued and need them.
    const clip = await deps.waitForVideo(taskId, o.signal).finally(() => (o.signal?.aborted ? undefined : removeCuts(shot.id, workDir)));
    deps.progress?.({ shotId: shot.id, phase: 'made', clip });
    return clip;
  };
  for (const id of plan.sends) {
    const shot = plan.shots.find((s) => s.id === id)!;
    // A continuation of a shot with no clip and no task: shotInput says so.
    clips.set(id, send(shot, shot.after ? clips.get(shot.after) : undefined));
  }
  const settled = await Promise.all([...clips].map(async ([id, p]) => [id, await p.then((clip) => ({ clip }), (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }))] as const));
  const result: RunResult = { clips: new Map(), sent, failed: [] };
  for (const [shotId, outcome] of settled) {
    if ('clip' in outcome) result.clips.set(shotId, outcome.clip);
    else result.failed.push({ shotId, error: outcome.error });
  }
  return result;
}
