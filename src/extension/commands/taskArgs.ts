// The task a command is about: a tree node (menus), a record or local ID (notifications, automation),
// or a service task ID.
import * as vscode from 'vscode';
import type { TaskRecord } from '../../tasks/record';
import type { WanContext } from '../context';
import { TaskNode, VideoNode } from '../tasks/tree';
import { UserError } from '../userError';

export function resolveTask(ctx: WanContext, arg: unknown): TaskRecord {
  const id =
    arg instanceof TaskNode
      ? arg.record.id
      : arg instanceof VideoNode
        ? arg.parent.record.id
        : typeof arg === 'string'
          ? arg
          : arg && typeof arg === 'object' && typeof (arg as { id?: unknown }).id === 'string'
            ? (arg as { id: string }).id
            : undefined;
  if (id === undefined) throw new UserError(vscode.l10n.t('Choose a task in the Wan Studio Tasks view first.'));
  const r = ctx.tasks.get(id) ?? ctx.tasks.all().find((t) => t.taskId === id);
  if (!r) throw new UserError(vscode.l10n.t('That task is no longer in the list.'));
  return r;
}
