// The account's recent tasks of this model, from the service's task list (GET /api/v1/tasks). Stands in
// for the protocol core's list call until that lands; the engine only sees `listCreatedTasks`.
// Any failure (a 404 from a server without the route included) is thrown: a lookup that failed must
// never be taken for "no such task". No vscode import.
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { ListedTask } from '../../tasks/engine';
import { requestJson } from '../../wan/http';
import { MODEL } from '../../wan/limits';
import { parseServiceTime } from '../../wan/time';

const PAGE_SIZE = 100;
const MAX_PAGES = 20;
const UTC8_MS = 8 * 3600_000;

const ListedTaskSchema = z.looseObject({
  task_id: z.string().min(1),
  status: z.string().optional(),
  task_status: z.string().optional(),
  model_name: z.string().optional(),
  gmt_create: z.union([z.string(), z.number()]).optional(),
});

const TaskListSchema = z.looseObject({
  request_id: z.string().optional(),
  total: z.number().optional(),
  total_page: z.number().optional(),
  page_no: z.number().optional(),
  page_size: z.number().optional(),
  data: z.array(ListedTaskSchema).default([]),
});

/** `yyyyMMddHHmmss` in the service's time zone (UTC+8), as the list's start_time and end_time want it. */
export function listTime(date: Date): string {
  return new Date(date.getTime() + UTC8_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

function createdAt(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (!value) return undefined;
  const t = parseServiceTime(value)?.getTime() ?? Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

export interface ListTarget {
  baseUrl: string;
  apiKey: string;
  dispatcher: Dispatcher;
}

/** Every task of this model the account created between `from` and `to`, all pages. */
export async function listCreatedTasks(target: ListTarget, from: Date, to: Date, signal?: AbortSignal): Promise<ListedTask[]> {
  const found: ListedTask[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const query = new URLSearchParams({
      start_time: listTime(from),
      end_time: listTime(to),
      model_name: MODEL,
      page_no: String(page),
      page_size: String(PAGE_SIZE),
    });
    const answer = await requestJson(
      {
        method: 'GET',
        url: `${target.baseUrl}/api/v1/tasks?${query}`,
        headers: { authorization: `Bearer ${target.apiKey}`, accept: 'application/json' },
        dispatcher: target.dispatcher,
        signal,
        what: 'List tasks',
      },
      TaskListSchema,
    );
    for (const t of answer.data) {
      if (t.model_name !== undefined && t.model_name !== MODEL) continue;
      found.push({ taskId: t.task_id, status: t.status ?? t.task_status ?? 'UNKNOWN', createdAt: createdAt(t.gmt_create) });
    }
    const pages = answer.total_page ?? (answer.total !== undefined ? Math.ceil(answer.total / PAGE_SIZE) : 1);
    if (page >= pages || answer.data.length === 0) break;
  }
  return found;
}
