// The account's task list, beyond one page: everything in a window (bounded), and the tasks a create
// whose answer was lost may have made. The CLI and the extension resolve interrupted creates with it.
import type { TaskListQuery, WanClient } from './client';
import { MODEL } from './limits';
import type { CandidateTask } from './match';
import type { TaskListItem } from './schema';
import { parseTaskTime } from './time';

export interface ListAllOptions {
  /** Pages fetched at most (default 10). */
  maxPages?: number;
  /** Default 50. */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface TaskListAll {
  /** Newest first, each task once. */
  tasks: TaskListItem[];
  /** What the service counts in the window. */
  total: number;
  /** false when the page bound stopped the listing before its end. */
  complete: boolean;
}

/** Every task matching `query`, page after page, until the last page or `maxPages`. */
export async function listAllTasks(
  client: Pick<WanClient, 'listTasks'>,
  query: Omit<TaskListQuery, 'pageNo' | 'pageSize'> = {},
  options: ListAllOptions = {},
): Promise<TaskListAll> {
  const maxPages = options.maxPages ?? 10;
  const pageSize = options.pageSize ?? 50;
  const seen = new Map<string, TaskListItem>();
  let total = 0;
  for (let pageNo = 1; pageNo <= maxPages; pageNo++) {
    const page = await client.listTasks({ ...query, pageNo, pageSize }, { signal: options.signal });
    total = page.total;
    // A task created while paging shifts the pages: the same task may show up twice.
    for (const t of page.data) if (!seen.has(t.task_id)) seen.set(t.task_id, t);
    const lastPage = page.total_page > 0 ? page.total_page : Math.ceil(page.total / pageSize);
    if (page.data.length === 0 || pageNo >= lastPage) return { tasks: [...seen.values()], total, complete: true };
  }
  return { tasks: [...seen.values()], total, complete: false };
}

/** When a listed task was created; undefined when the entry carries no readable time. */
export function taskCreatedAt(task: TaskListItem): Date | undefined {
  return parseTaskTime(task.gmt_create);
}

/**
 * The tasks of `model` (default this tool's) created between `from` and `to`, oldest first: the
 * candidates for a create whose answer never arrived. Widen the window on both sides for clock skew.
 */
export async function findTasksCreatedBetween(
  client: Pick<WanClient, 'listTasks'>,
  from: Date,
  to: Date,
  options: ListAllOptions & { model?: string } = {},
): Promise<TaskListItem[]> {
  const { tasks } = await listAllTasks(client, { startTime: from, endTime: to, modelName: options.model ?? MODEL }, options);
  const inWindow = tasks.filter((t) => {
    const at = taskCreatedAt(t)?.getTime();
    // The service filtered to the second already; an entry without a readable time stays a candidate.
    return at === undefined || (at >= Math.floor(from.getTime() / 1000) * 1000 && at <= to.getTime());
  });
  return inWindow.sort((a, b) => (taskCreatedAt(a)?.getTime() ?? 0) - (taskCreatedAt(b)?.getTime() ?? 0));
}

/** A task of the list, as the matching of an interrupted create starts from it. */
export interface ListedCandidate {
  taskId: string;
  status: string;
  createdAt?: number;
}

/**
 * What each candidate's own answer says, for `decideMatch`. The first `max` (nearest in time first, as
 * given) are polled; beyond them the list's status stands, which can say a task ended. The echoed prompt
 * and usage are taken only from a SUCCEEDED answer, where the reference shows them.
 */
export async function checkCandidates(
  client: Pick<WanClient, 'getTask'>,
  listed: readonly ListedCandidate[],
  options: { max?: number; signal?: AbortSignal } = {},
): Promise<CandidateTask[]> {
  const max = options.max ?? 20;
  const checked: CandidateTask[] = [];
  for (const [i, c] of listed.entries()) {
    if (i >= max) {
      checked.push({ taskId: c.taskId, createdAt: c.createdAt, status: c.status });
      continue;
    }
    const task = await client.getTask(c.taskId, { signal: options.signal });
    const done = task.output.task_status === 'SUCCEEDED';
    checked.push({
      taskId: c.taskId,
      createdAt: c.createdAt,
      status: task.output.task_status,
      origPrompt: done ? task.output.orig_prompt : undefined,
      usage: done ? task.usage : undefined,
    });
  }
  return checked;
}
