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

function near(a: TaskRecord, b: TaskRecord): boolean {
  return a.id !== b.id && Math.abs(a.requestedAt - b.requestedAt) <= BATCH_WINDOW_MS && a.request.firstFrame !== b.request.firstFrame;
}

/** The other tasks of `r`'s batch (empty when it was asked for alone). */
export function batchSiblings(r: TaskRecord, all: readonly TaskRecord[]): TaskRecord[] {
  const key = batchKey(r);
  if (key === undefined) return [];
  return all.filter((o) => near(o, r) && batchKey(o) === key);
}

/** The IDs of every record that is part of a batch, in one pass over the list (the tree has thousands). */
export function batchMembers(all: readonly TaskRecord[]): Set<string> {
  const byKey = new Map<string, TaskRecord[]>();
  for (const r of all) {
    const key = batchKey(r);
    if (key === undefined) continue;
    const group = byKey.get(key);
    if (group) group.push(r);
    else byKey.set(key, [r]);
  }
  const members = new Set<string>();
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    for (const r of group) if (group.some((o) => near(o, r))) members.add(r.id);
  }
  return members;
}

/** The name a batch row goes by: its image's file name (the prompt is the same on every row). */
export function batchInputName(r: TaskRecord): string {
  return basename(r.request.firstFrame ?? r.id);
}
