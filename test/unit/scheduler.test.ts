// The engine's scheduler on its own: which job is due for which task, the poll rate limit, the backoff
// after a failed job and when the loop should look again. Pure: records in, picks out, no clock or timer.
import assert from 'node:assert/strict';
import { JOB_BACKOFF_MS, QUERIES_PER_SECOND } from '../../src/tasks/engine/constants';
import { Scheduler, storageBackoffMs, type Holdings } from '../../src/tasks/engine/scheduler';
import type { TaskRecord } from '../../src/tasks/record';
import { record } from '../support/records';

const now = 50_000_000;
const LIMITS = { maxActive: 5, maxCreatesPerSecond: 5 };
const holding = (all: TaskRecord[], busy: string[] = [], notHeld: string[] = []): Holdings => ({
  all,
  holds: (r) => !notHeld.includes(r.id),
  busy: (id) => busy.includes(id),
});

describe('engine scheduler', () => {
  it('picks each held idle task its one due job: creates first, then lookups, polls, saves and records', () => {
    const queued = record({ requestedAt: now - 10 });
    const creating = record({ state: 'creating', sentAt: now - 5000, nextPollAt: now });
    const running = record({ state: 'running', taskId: 't1', nextPollAt: now - 1 });
    const later = record({ state: 'pending', taskId: 't2', nextPollAt: now + 1 });
    const saving = record({ state: 'succeeded', taskId: 't3', save: { state: 'waiting', attempts: 0 } });
    const recordDue = record({ state: 'succeeded', taskId: 't4', save: { state: 'saved', attempts: 1, file: '/v.mp4', pendingRecord: { attempts: 0 } } });
    const saved = record({ state: 'succeeded', taskId: 't5', save: { state: 'saved', attempts: 1, file: '/w.mp4' } });
    const due = new Scheduler(LIMITS).due(holding([running, later, saving, recordDue, saved, creating, queued]), now);
    assert.deepEqual(due, [
      { id: queued.id, kind: 'create' },
      { id: running.id, kind: 'poll' },
      { id: saving.id, kind: 'save' },
      { id: recordDue.id, kind: 'record' },
      { id: creating.id, kind: 'lookup' },
    ]);
  });

  it('never picks a task another window holds or one a job already runs for', () => {
    const mine = record({ state: 'running', taskId: 'a', nextPollAt: now });
    const theirs = record({ state: 'running', taskId: 'b', nextPollAt: now });
    const busy = record({ requestedAt: now - 5 });
    assert.deepEqual(new Scheduler(LIMITS).due(holding([mine, theirs, busy], [busy.id], [theirs.id]), now), [{ id: mine.id, kind: 'poll' }]);
  });

  it(`starts at most ${QUERIES_PER_SECOND} polls in any second, and the rest a second later`, () => {
    const many = Array.from({ length: QUERIES_PER_SECOND + 3 }, (_, i) => record({ state: 'running', taskId: `t${i}`, nextPollAt: now }));
    const s = new Scheduler(LIMITS);
    assert.equal(s.due(holding(many), now).length, QUERIES_PER_SECOND);
    assert.equal(s.due(holding(many), now + 999).length, 0, 'the second is not over');
    assert.equal(s.due(holding(many), now + 1000).length, QUERIES_PER_SECOND);
  });

  it('a task whose job failed waits JOB_BACKOFF_MS, and the loop wakes when the wait ends', () => {
    const r = record({ state: 'running', taskId: 'x', nextPollAt: now });
    const s = new Scheduler(LIMITS);
    s.failed(r.id, now);
    assert.deepEqual(s.due(holding([r]), now + JOB_BACKOFF_MS - 1), []);
    const idle = record({ state: 'succeeded', taskId: 'y', save: { state: 'saved', attempts: 1, file: '/y.mp4' } });
    assert.equal(s.nextWakeMs(holding([idle]), now, 60_000), JOB_BACKOFF_MS);
    assert.deepEqual(s.due(holding([r]), now + JOB_BACKOFF_MS), [{ id: r.id, kind: 'poll' }]);
  });

  it('wakes for the earliest due step of a held idle task, at least 50 ms and at most the idle wait', () => {
    const s = new Scheduler(LIMITS);
    const soon = record({ state: 'pending', taskId: 'p', nextPollAt: now + 4000 });
    const sooner = record({ state: 'running', taskId: 'q', nextPollAt: now + 2500 });
    assert.equal(s.nextWakeMs(holding([soon, sooner]), now, 7500), 2500);
    assert.equal(s.nextWakeMs(holding([soon, sooner], [sooner.id]), now, 7500), 4000, 'a task in a job is not waited for');
    assert.equal(s.nextWakeMs(holding([soon], [], [soon.id]), now, 7500), 7500, "another window's task is not waited for");
    assert.equal(s.nextWakeMs(holding([record({ state: 'running', taskId: 'r', nextPollAt: now - 10 })]), now, 7500), 50);
    const throttled = record({ notBefore: now + 3000 });
    assert.equal(s.nextWakeMs(holding([throttled]), now, 7500), 3000, 'a throttled request is admitted when its wait ends');
  });

  it('backs the loop off 1 s, 2 s, 4 s … at most 30 s while the task list cannot be written', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map(storageBackoffMs), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});
