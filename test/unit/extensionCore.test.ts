// The extension's parts that need no VS Code: the tree's context values, the stand-in poll schedule,
// the service clock, and the stand-in task-list lookup (against the emulator, which has no list route
// yet: that must read as a failed lookup, never as "no such task").
import assert from 'node:assert/strict';
import { TASK_FLAGS, taskContextValue, taskFlags } from '../../src/extension/tasks/contextValue';
import { ServiceClock, observeServiceClock } from '../../src/extension/serviceClock';
import { startEmulator } from '../../src/emulator/server';
import { TASK_STATES, newTaskRecord, type TaskRecord, type TaskState } from '../../src/tasks/record';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../../src/wan/http';
import { formatServiceTime } from '../../src/wan/time';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function rec(state: TaskState, extra: Partial<TaskRecord> = {}): TaskRecord {
  return newTaskRecord({
    id: 'local-1',
    state,
    request: { firstFrame: '/ws/cat.png', prompt: 'a cat' },
    endpoint: { kind: 'emulator', baseUrl: 'http://127.0.0.1:1' },
    requestedAt: NOW - 60_000,
    updatedAt: NOW,
    ...extra,
  });
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
