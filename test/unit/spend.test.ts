// Spend: which tasks count and for how much, the user's local days and months, per endpoint, prices, caps.
import assert from 'node:assert/strict';
import { capsExceeded, costOf, periodStarts, recordSeconds, spendOf } from '../../src/tasks/spend';
import type { EndpointRef, TaskRecord } from '../../src/tasks/record';
import { record } from '../support/records';

const BEIJING: EndpointRef = { kind: 'beijing', baseUrl: 'https://dashscope.aliyuncs.com' };
const CUSTOM: EndpointRef = { kind: 'custom', baseUrl: 'http://127.0.0.1:9000/' };
const REHEARSAL: EndpointRef = { kind: 'emulator', baseUrl: 'http://127.0.0.1:1' };

/** A finished task billed `seconds` (its usage), requested at `at`. */
function billed(seconds: number, at: number, over: Partial<TaskRecord> = {}): TaskRecord {
  return record({
    state: 'succeeded',
    endpoint: BEIJING,
    requestedAt: at,
    request: { firstFrame: '/tmp/a.png', duration: seconds, resolution: '720P' },
    usage: { duration: seconds, video_count: 1 },
    ...over,
  });
}

/** Runs `fn` with the process in time zone `tz` (Node reads TZ again when it changes). */
function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe('spend', () => {
  const now = Date.parse('2026-12-02T03:00:00Z');

  it('counts usage for ended tasks, the request for tasks on their way, nothing for failures without usage', () => {
    assert.deepEqual(recordSeconds(billed(7, now)), { seconds: 7, expected: false });
    // The service's usage wins over the request (a continuation, say).
    assert.equal(recordSeconds(billed(5, now, { usage: { duration: 9 } })).seconds, 9);
    for (const state of ['queued', 'creating', 'pending', 'running', 'unresolved'] as const) {
      assert.deepEqual(recordSeconds(record({ state, endpoint: BEIJING, request: { firstFrame: '/a.png', duration: 12 } })), { seconds: 12, expected: true }, state);
    }
    // No duration asked: the service's default of 5 s.
    assert.equal(recordSeconds(record({ state: 'queued', endpoint: BEIJING })).seconds, 5);
    assert.equal(recordSeconds(record({ state: 'failed', endpoint: BEIJING, request: { firstFrame: '/a.png', duration: 12 } })).seconds, 0);
    assert.equal(recordSeconds(record({ state: 'canceled', endpoint: BEIJING, request: { firstFrame: '/a.png', duration: 12 } })).seconds, 0);
    // A succeeded task that never reported usage was billed all the same.
    assert.equal(recordSeconds(billed(6, now, { usage: undefined })).seconds, 6);
  });

  it('never counts a rehearsal task', () => {
    const tasks = [billed(10, now, { endpoint: REHEARSAL }), record({ state: 'running', endpoint: REHEARSAL, request: { firstFrame: '/a.png', duration: 15 } })];
    assert.deepEqual(recordSeconds(tasks[0]!), { seconds: 0, expected: false });
    const spend = spendOf(tasks, now);
    assert.equal(spend.total.all.seconds, 0);
    assert.equal(spend.endpoints.length, 0);
    assert.deepEqual(capsExceeded(tasks, [{ firstFrame: '/a.png', duration: 15 }], REHEARSAL, { dailySeconds: 1 }, now), []);
  });

  it('splits today, this month and all time at the local midnight and first of the month', () => {
    const tasks = [
      billed(2, Date.parse('2026-12-01T16:30:00Z')), // Shanghai: 2 Dec 00:30 · Los Angeles: 1 Dec 08:30
      billed(3, Date.parse('2026-12-01T15:30:00Z')), // Shanghai: 1 Dec 23:30 · Los Angeles: 1 Dec 07:30
      billed(5, Date.parse('2026-11-30T17:00:00Z')), // Shanghai: 1 Dec 01:00 · Los Angeles: 30 Nov 09:00
      billed(11, Date.parse('2026-10-15T12:00:00Z')),
    ];
    const shanghai = inZone('Asia/Shanghai', () => spendOf(tasks, now).total);
    assert.deepEqual([shanghai.today.seconds, shanghai.month.seconds, shanghai.all.seconds], [2, 10, 21]);
    const losAngeles = inZone('America/Los_Angeles', () => spendOf(tasks, now).total);
    assert.deepEqual([losAngeles.today.seconds, losAngeles.month.seconds, losAngeles.all.seconds], [5, 5, 21]);
    const starts = inZone('Asia/Shanghai', () => periodStarts(now));
    assert.equal(new Date(starts.today).toISOString(), '2026-12-01T16:00:00.000Z');
    assert.equal(new Date(starts.month).toISOString(), '2026-11-30T16:00:00.000Z');
  });

  it('keeps each account apart (by its address) and adds them up in the total', () => {
    const tasks = [
      billed(4, now),
      billed(6, now, { endpoint: CUSTOM }),
      billed(8, now, { endpoint: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' } }), // the same URL without its slash
      record({ state: 'running', endpoint: BEIJING, requestedAt: now, request: { firstFrame: '/a.png', duration: 3, resolution: '1080P' } }),
      // Rebuilt from the record beside a Beijing video, which knows the URL only: the same account.
      billed(5, now, { endpoint: { kind: 'custom', baseUrl: `${BEIJING.baseUrl}/` } }),
    ];
    const spend = spendOf(tasks, now);
    assert.deepEqual(spend.endpoints.map((e) => [e.key, e.periods.today.seconds, e.periods.today.expected]), [
      ['http://127.0.0.1:9000', 14, 0],
      ['https://dashscope.aliyuncs.com', 12, 3],
    ]);
    assert.equal(spend.total.today.seconds, 26);
    assert.equal(spend.total.today.expected, 3);
    assert.deepEqual(spend.total.all.byResolution, { '720P': 23, '1080P': 3 });
  });

  it('prices seconds per resolution, and gives no price while a resolution used has none', () => {
    const tally = spendOf([billed(10, now), billed(4, now, { request: { firstFrame: '/a.png', resolution: '1080P' } })], now).total.all;
    assert.equal(costOf(tally, { '720P': 0.1, '1080P': 0.15 })?.toFixed(2), '1.60');
    assert.equal(costOf(tally, { '720P': 0.1 }), undefined);
    assert.equal(costOf(spendOf([billed(10, now)], now).total.all, { '720P': 0.1 })?.toFixed(2), '1.00');
  });

  it('refuses what would pass a cap, counting tasks on their way and every request of a batch', () => {
    const tasks = [billed(4, now), record({ state: 'pending', endpoint: BEIJING, requestedAt: now, request: { firstFrame: '/a.png', duration: 3 } })];
    const five = { firstFrame: '/a.png', duration: 5 };
    // 4 billed + 3 on its way + 3 × 5 asked = 22.
    assert.deepEqual(capsExceeded(tasks, [five, five, five], BEIJING, { dailySeconds: 21 }, now), [
      { period: 'today', cap: 21, spent: 7, onItsWay: 3, asked: 15 },
    ]);
    assert.deepEqual(capsExceeded(tasks, [five, five, five], BEIJING, { dailySeconds: 22 }, now), [], 'reaching a cap exactly fits');
    // One request of the three fits where the batch does not.
    assert.deepEqual(capsExceeded(tasks, [five], BEIJING, { dailySeconds: 21 }, now), []);
    // Caps cover every paid endpoint together; the month's cap is checked too.
    const month = capsExceeded([...tasks, billed(30, Date.parse('2026-12-10T03:00:00Z'), { endpoint: CUSTOM })], [five], CUSTOM, { dailySeconds: 100, monthlySeconds: 40 }, Date.parse('2026-12-20T03:00:00Z'));
    assert.deepEqual(month.map((c) => [c.period, c.spent, c.asked]), [['month', 37, 5]]);
    assert.deepEqual(capsExceeded(tasks, [five], BEIJING, {}, now), [], 'no caps, no refusal');
  });

  it('counts seconds a whole was allowed and has not queued yet as on their way; a request of nothing passes no cap', () => {
    const tasks = [billed(4, now)];
    const five = { firstFrame: '/a.png', duration: 5 };
    // A storyboard allowed 15 s and queued none of it yet: 4 + 15 + 5 = 24 > 21.
    assert.deepEqual(capsExceeded(tasks, [five], BEIJING, { dailySeconds: 21 }, now, 15), [{ period: 'today', cap: 21, spent: 19, onItsWay: 15, asked: 5 }]);
    assert.deepEqual(capsExceeded(tasks, [five], BEIJING, { dailySeconds: 21 }, now), []);
    // Already over the cap (an earlier Allow This Once), asking nothing more is no refusal.
    assert.deepEqual(capsExceeded([billed(30, now)], [], BEIJING, { dailySeconds: 21 }, now), []);
  });
});
