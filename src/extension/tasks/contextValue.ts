// The context values of the task tree, built from flags in one place. package.json's menus match them
// with regex `when` clauses, e.g. `viewItem =~ /^task:.*:cancelable(:|$)/`. No vscode import.
import { isExpired, type TaskRecord } from '../../tasks/record';

/** Every flag, in the order it appears in a context value. */
export const TASK_FLAGS = [
  'cancelable',
  'saved',
  'retryable',
  'expired',
  'hasTaskId',
  'hasPrompt',
  'repeatable',
  'removable',
] as const;
export type TaskFlag = (typeof TASK_FLAGS)[number];

export function taskFlags(r: TaskRecord, now: number): Set<TaskFlag> {
  const flags = new Set<TaskFlag>();
  const expired = r.save?.state === 'expired' || isExpired(r, now);
  // Cancel: the service cancels only PENDING tasks; a locally queued request was never sent.
  if (r.state === 'queued' || (r.state === 'pending' && r.taskId)) flags.add('cancelable');
  if (r.state === 'succeeded' && r.save?.state === 'saved' && r.save.file) flags.add('saved');
  if (r.state === 'succeeded' && !expired && r.save?.state === 'failed') flags.add('retryable');
  if (expired) flags.add('expired');
  if (r.taskId) flags.add('hasTaskId');
  if (r.request.prompt) flags.add('hasPrompt');
  // Generate Again needs the inputs; a task added by ID knows only its prompt.
  if (r.request.firstFrame || r.request.firstClip) flags.add('repeatable');
  if (r.state !== 'creating' && r.state !== 'pending' && r.state !== 'running') flags.add('removable');
  return flags;
}

/** `task:<state>[:flag]…`, flags in TASK_FLAGS order. */
export function taskContextValue(r: TaskRecord, now: number): string {
  const flags = taskFlags(r, now);
  return ['task', r.state, ...TASK_FLAGS.filter((f) => flags.has(f))].join(':');
}

export const VIDEO_CONTEXT_VALUE = 'video';
/** A storyboard's row, its shot tasks below it. */
export const BOARD_CONTEXT_VALUE = 'storyboard';
