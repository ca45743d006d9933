// Which tasks were asked for together: the images of one batch (the generation panel sends one task per image,
// same prompt, settings and seed, one after the other). The Tasks view names such rows by their image, and the
// notifier announces them once. No vscode import.
import { basename } from 'node:path';
import type { TaskRecord } from './record';

/** Tasks of one batch are submitted within this of each other (the panel submits them in one loop). */
export const BATCH_WINDOW_MS = 60_000;

/** Everything the images of one batch share; undefined for a task that cannot be part of one. */
function batchKey(r: TaskRecord): string | undefined {
  const q = r.request;
  if (!q.firstFrame || q.firstClip) return undefined;
  return JSON.stringify([r.endpoint.kind, r.workspaceFolder, q.prompt, q.negativePrompt, q.lastFrame, q.drivingAudio, q.resolution, q.duration, q.seed, q.promptExtend, q.watermark]);
}

/** The other tasks of `r`'s batch (empty when it was asked for alone). */
export function batchSiblings(r: TaskRecord, all: readonly TaskRecord[]): TaskRecord[] {
  const key = batchKey(r);
  if (key === undefined) return [];
  return all.filter(
    (o) => o.id !== r.id && Math.abs(o.requestedAt - r.requestedAt) <= BATCH_WINDOW_MS && o.request.firstFrame !== r.request.firstFrame && batchKey(o) === key,
  );
}

/** The name a batch row goes by: its image's file name (the prompt is the same on every row). */
export function batchInputName(r: TaskRecord): string {
  return basename(r.request.firstFrame ?? r.id);
}
