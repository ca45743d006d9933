// The lines a run prints: a task's state, shell-safe commands that resume or look up a task, and a task
// list line with a local time.
import { taskCreatedAt, type TaskListItem, type TaskResponse } from '../wan';
import type { Common } from './args';

export function describeTask(task: TaskResponse): string {
  const o = task.output;
  if (o.task_status === 'FAILED') return `FAILED: ${o.code ?? 'unknown error'}: ${o.message ?? ''}`.trim();
  if (o.task_status === 'UNKNOWN') return 'UNKNOWN: the task does not exist or is older than 24 hours';
  return o.task_status;
}

/** A word a POSIX shell reads back unchanged. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function waitCommand(taskId: string, outDir: string, common: Common): string {
  return ['wan-video', 'wait', taskId, '--out', outDir, ...common.endpointArgs].map(shellWord).join(' ');
}

export function listCommand(common: Common): string {
  return ['wan-video', 'list', '--since', '10m', ...common.endpointArgs].map(shellWord).join(' ');
}

/** A local time with its offset, e.g. 2026-04-25 10:00:05 +08:00. */
export function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

export function taskLine(t: TaskListItem): string {
  const created = taskCreatedAt(t);
  return `${t.task_id}  ${t.status.padEnd(9)}  ${created ? localTime(created) : String(t.gmt_create ?? '-')}`;
}
