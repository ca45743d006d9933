// The extension's parts that need no VS Code: the tree's context values, the stand-in poll schedule,
// the service clock, and the stand-in task-list lookup (against the emulator, which has no list route
// yet: that must read as a failed lookup, never as "no such task").
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TASK_FLAGS, taskContextValue, taskFlags } from '../../src/extension/tasks/contextValue';
import { listCreatedTasks, listTime } from '../../src/extension/tasks/listCreated';
import { adaptivePollDelay } from '../../src/extension/tasks/pollSchedule';
import { ServiceClock, observeServiceClock } from '../../src/extension/serviceClock';
import { startEmulator } from '../../src/emulator/server';
import { TASK_STATES, type TaskRecord, type TaskState } from '../../src/tasks/record';
import { WanApiError } from '../../src/wan/errors';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../../src/wan/http';
import { formatServiceTime } from '../../src/wan/time';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function rec(state: TaskState, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 'local-1',
    state,
    request: { firstFrame: '/ws/cat.png', prompt: 'a cat' },
    endpoint: { kind: 'emulator', baseUrl: 'http://127.0.0.1:1' },
    requestedAt: NOW - 60_000,
    updatedAt: NOW,
    createAttempts: 0,
    polls: 0,
    pollFailures: 0,
    announced: false,
    expiryWarned: false,
    ...extra,
  };
}

describe('task context values', () => {
  const sent = { taskId: 't-1', sentAt: NOW - 60_000 };
  const ended = { ...sent, endTime: formatServiceTime(new Date(NOW - HOUR)) };
  const cases: [string, TaskRecord, string][] = [
    ['queued', rec('queued'), 'task:queued:cancelable:hasPrompt:repeatable:removable'],
    ['creating', rec('creating', { sentAt: NOW }), 'task:creating:hasPrompt:repeatable'],
    ['unresolved', rec('unresolved', { sentAt: NOW - HOUR }), 'task:unresolved:hasPrompt:repeatable:removable'],
    ['pending', rec('pending', sent), 'task:pending:cancelable:hasTaskId:hasPrompt:repeatable'],
    ['running', rec('running', sent), 'task:running:hasTaskId:hasPrompt:repeatable'],
    ['saving', rec('succeeded', { ...ended, save: { state: 'saving', attempts: 1 } }), 'task:succeeded:hasTaskId:hasPrompt:repeatable:removable'],
    ['saved', rec('succeeded', { ...ended, save: { state: 'saved', file: '/ws/videos/a.mp4', bytes: 1, attempts: 1 } }), 'task:succeeded:saved:hasTaskId:hasPrompt:repeatable:removable'],
    ['save failed', rec('succeeded', { ...ended, save: { state: 'failed', attempts: 5, error: 'x' } }), 'task:succeeded:retryable:hasTaskId:hasPrompt:repeatable:removable'],
    ['save failed, link dead', rec('succeeded', { ...sent, endTime: formatServiceTime(new Date(NOW - 25 * HOUR)), save: { state: 'failed', attempts: 5 } }), 'task:succeeded:expired:hasTaskId:hasPrompt:repeatable:removable'],
    ['expired', rec('succeeded', { ...ended, save: { state: 'expired', attempts: 1 } }), 'task:succeeded:expired:hasTaskId:hasPrompt:repeatable:removable'],
    ['failed', rec('failed', { ...ended, code: 'DataInspectionFailed' }), 'task:failed:hasTaskId:hasPrompt:repeatable:removable'],
    ['canceled before sending', rec('canceled'), 'task:canceled:hasPrompt:repeatable:removable'],
    ['unknown', rec('unknown', sent), 'task:unknown:hasTaskId:hasPrompt:repeatable:removable'],
    ['added by ID (no inputs, no prompt)', rec('pending', { ...sent, request: {} }), 'task:pending:cancelable:hasTaskId'],
  ];
  for (const [name, r, expected] of cases) {
    it(name, () => assert.equal(taskContextValue(r, NOW), expected));
  }

  it('covers every state, and lists flags in one fixed order', () => {
    const states = new Set(cases.map(([, r]) => r.state));
    assert.deepEqual([...states].sort(), [...TASK_STATES].sort());
    for (const [, r] of cases) {
      const flags = taskContextValue(r, NOW).split(':').slice(2);
      assert.deepEqual(flags, TASK_FLAGS.filter((f) => taskFlags(r, NOW).has(f)));
    }
  });
});

describe('adaptive poll schedule (stand-in)', () => {
  it('looks quickly at first, then every 15 s, with ±15 % jitter', () => {
    const mid = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => adaptivePollDelay(n, () => 0.5));
    assert.deepEqual(mid, [1000, 2000, 3000, 5000, 8000, 10_000, 12_000, 15_000, 15_000]);
    assert.equal(adaptivePollDelay(30, () => 0), 12_750);
    assert.equal(adaptivePollDelay(30, () => 1), 17_250);
  });
});

describe('service clock', () => {
  it('keeps one offset per origin from Date headers, and treats a few seconds as no offset', () => {
    let real = NOW;
    const clock = new ServiceClock(() => real);
    clock.observe('http://a', new Date(NOW + 2000).toUTCString());
    clock.observe('http://b', new Date(NOW + 23 * HOUR).toUTCString());
    clock.observe('http://c', 'not a date');
    assert.equal(clock.offset('http://a'), 0);
    assert.equal(clock.offset('http://b'), 23 * HOUR);
    assert.equal(clock.offset('http://c'), 0);
    real += 1000;
    assert.equal(clock.now('http://b'), NOW + 1000 + 23 * HOUR);
    assert.equal(clock.now(undefined), NOW + 1000);
  });

  it('learns the offset from real answers through the dispatcher', async () => {
    const emu = await startEmulator();
    const clock = new ServiceClock();
    const dispatcher = createDispatcher(DEFAULT_TIMEOUTS).compose(observeServiceClock(clock));
    try {
      await fetch(`${emu.url}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 5 * HOUR }) });
      const { request } = await import('undici');
      const res = await request(`${emu.url}/__emulator/info`, { dispatcher });
      await res.body.dump();
      assert.ok(Math.abs(clock.offset(emu.url) - 5 * HOUR) < 2000, `offset ${clock.offset(emu.url)}`);
    } finally {
      await dispatcher.close();
      await emu.close();
    }
  });
});

describe('task-list lookup (stand-in for the core)', () => {
  it('formats list times as yyyyMMddHHmmss in UTC+8', () => {
    assert.equal(listTime(new Date(Date.UTC(2026, 0, 31, 20, 5, 9))), '20260201040509');
  });

  it('pages through the list and keeps only this model', async () => {
    const seen: URLSearchParams[] = [];
    const server = createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      seen.push(q);
      assert.equal(req.headers.authorization, 'Bearer sk-list');
      const page = Number(q.get('page_no'));
      const data =
        page === 1
          ? [{ task_id: 'a', status: 'RUNNING', model_name: 'wan2.7-i2v-2026-04-25', gmt_create: '2026-11-27 20:00:00.000' }, { task_id: 'x', status: 'SUCCEEDED', model_name: 'qwen-image' }]
          : [{ task_id: 'b', status: 'SUCCEEDED', model_name: 'wan2.7-i2v-2026-04-25', gmt_create: 1_790_000_000_000 }];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ request_id: 'r', total: 3, total_page: 2, page_no: page, page_size: 100, data }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dispatcher = createDispatcher(DEFAULT_TIMEOUTS);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const found = await listCreatedTasks({ baseUrl: url, apiKey: 'sk-list', dispatcher }, new Date(NOW - HOUR), new Date(NOW));
      assert.deepEqual(found, [
        { taskId: 'a', status: 'RUNNING', createdAt: Date.UTC(2026, 10, 27, 12, 0, 0) },
        { taskId: 'b', status: 'SUCCEEDED', createdAt: 1_790_000_000_000 },
      ]);
      assert.deepEqual(seen.map((q) => q.get('page_no')), ['1', '2']);
      assert.equal(seen[0]!.get('model_name'), 'wan2.7-i2v-2026-04-25');
      assert.equal(seen[0]!.get('start_time'), listTime(new Date(NOW - HOUR)));
    } finally {
      await dispatcher.close();
      server.close();
    }
  });

  it('a server that cannot list (a 404, as the emulator answered before its list route) fails the lookup; it never says "not found"', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 'NotFound', message: 'GET /api/v1/tasks is not part of the API.', request_id: 'r' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dispatcher = createDispatcher(DEFAULT_TIMEOUTS);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(
        listCreatedTasks({ baseUrl: url, apiKey: 'sk-list', dispatcher }, new Date(NOW - HOUR), new Date(NOW)),
        (e: unknown) => e instanceof WanApiError && e.httpStatus === 404,
      );
    } finally {
      await dispatcher.close();
      server.close();
    }
  });
});
