// The task list (GET /api/v1/tasks) in the documented shape: the caller's account's tasks, newest first,
// filtered by creation time, model and status, paged.
import { TASK_TTL_MS } from '../wan/limits';
import { TASK_STATUSES } from '../wan/schema';
import { formatServiceTime, parseListTime } from '../wan/time';
import type { EmulatorClock } from './clock';
import { errorReply, jsonReply, type Reply } from './http';
import type { Task, TaskStore } from './tasks';

export class TaskList {
  /** Every task created, oldest first, with the create's request ID. */
  private readonly created: { task: Task; requestId: string }[] = [];

  constructor(
    private readonly tasks: TaskStore,
    private readonly clock: EmulatorClock,
  ) {}

  add(task: Task, requestId: string): void {
    this.forgetOld();
    this.created.push({ task, requestId });
  }

  /** Drops list entries the task store has forgotten too (well past their 24 h), so a long demo stays small. */
  private forgetOld(): void {
    const now = this.clock.now();
    while (this.created.length && now - this.created[0]!.task.submitAt > 2 * TASK_TTL_MS) this.created.shift();
  }

  /**
   * The task list: the account's tasks (see the emulator's `apiKeys`), newest first, filtered by
   * creation time (`yyyyMMddHHmmss`, UTC+8, both ends inclusive to the second), model and status.
   */
  answer(q: URLSearchParams, account: string, requestId: string): Reply {
    const bad = (message: string) => errorReply(400, 'InvalidParameter', message, requestId);
    const positive = (name: string, fallback: number, max: number): number | Reply => {
      const text = q.get(name);
      if (text === null || text === '') return fallback;
      const n = Number(text);
      return /^\d+$/.test(text) && n >= 1 && n <= max ? n : bad(`The query parameter ${name} must be an integer from 1 to ${max}.`);
    };
    const pageNo = positive('page_no', 1, 1_000_000);
    if (typeof pageNo !== 'number') return pageNo;
    const pageSize = positive('page_size', 10, 100);
    if (typeof pageSize !== 'number') return pageSize;
    const bound = (name: string): number | undefined | Reply => {
      const text = q.get(name);
      if (text === null || text === '') return undefined;
      const at = parseListTime(text);
      return at ? at.getTime() : bad(`The query parameter ${name} must be a time in the form yyyyMMddHHmmss.`);
    };
    const start = bound('start_time');
    if (typeof start === 'object') return start;
    const end = bound('end_time');
    if (typeof end === 'object') return end;
    const status = q.get('status') || undefined;
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
      return bad(`The query parameter status must be one of ${TASK_STATUSES.filter((t) => t !== 'UNKNOWN').join(', ')}.`);
    }
    const model = q.get('model_name') || undefined;
    this.forgetOld();
    const rows = [];
    for (let i = this.created.length - 1; i >= 0; i--) {
      const { task: t, requestId: createRequestId } = this.created[i]!;
      if (t.account !== account || !this.tasks.get(t.id, account)) continue;
      if (start !== undefined && t.submitAt < start) continue;
      if (end !== undefined && t.submitAt >= end + 1000) continue;
      if (model !== undefined && t.request.model !== model) continue;
      const out = this.tasks.output(t);
      if (status !== undefined && out.task_status !== status) continue;
      rows.push({
        task_id: t.id,
        status: out.task_status,
        model_name: t.request.model,
        region: 'emulator',
        request_id: createRequestId,
        gmt_create: formatServiceTime(new Date(t.submitAt)),
        ...(out.scheduled_time ? { start_time: out.scheduled_time } : {}),
        ...(out.end_time ? { end_time: out.end_time } : {}),
      });
    }
    return jsonReply(200, {
      request_id: requestId,
      total: rows.length,
      total_page: Math.ceil(rows.length / pageSize),
      page_no: pageNo,
      page_size: pageSize,
      data: rows.slice((pageNo - 1) * pageSize, pageNo * pageSize),
    });
  }
}
