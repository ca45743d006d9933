// The poll schedules and the outage policy (src/wan/poll.ts): pure functions, checked without a server.
import assert from 'node:assert/strict';
import {
  ADAPTIVE_SCHEDULE,
  DEFAULT_OUTAGE_POLICY,
  MAX_TIMER_MS,
  POLL_SCHEDULES,
  SDK_SCHEDULE,
  WanApiError,
  WanNetworkError,
  fixedSchedule,
  isTransientPollFailure,
  nextPollDelay,
  shouldRetryPoll,
  simulatePolling,
  sleep,
  type PollState,
} from '../../src/wan';

const MIN = 60_000;
const mid = () => 0.5;
const state = (s: Partial<PollState>): PollState => ({ polls: 1, taskAgeMs: 0, failures: 0, ...s });

/** A seeded generator, so the jitter checks are repeatable. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('poll schedules', () => {
  it('names the adaptive default, the SDK schedule and a fixed 15 s one', () => {
    assert.deepEqual(Object.keys(POLL_SCHEDULES), ['adaptive', 'sdk', 'fixed']);
    assert.equal(POLL_SCHEDULES.fixed.baseDelayMs(1, 0), 15_000);
    assert.equal(POLL_SCHEDULES.adaptive, ADAPTIVE_SCHEDULE);
  });

  it('the SDK schedule is 1, 1, 2, 2, 2, 4, 4, 4, then 5 s, without jitter', () => {
    const delays = Array.from({ length: 11 }, (_, i) => nextPollDelay(state({ polls: i + 1 }), Math.random, SDK_SCHEDULE));
    assert.deepEqual(delays, [1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000, 5000, 5000, 5000]);
  });

  it('adaptive: quick early polls, 10 s in the first minute, 5 s in the 1-6 minute window, then slower', () => {
    const at = (polls: number, age: number) => nextPollDelay(state({ polls, taskAgeMs: age }), mid);
    assert.deepEqual([at(1, 100), at(2, 2_000), at(3, 5_000), at(4, 10_000), at(6, 50_000)], [2000, 3000, 5000, 10_000, 10_000]);
    assert.deepEqual([at(8, 61_000), at(40, 5 * MIN)], [5000, 5000]);
    assert.deepEqual([at(80, 7 * MIN), at(200, 20 * MIN)], [10_000, 15_000]);
    // A resumed wait on an old task skips the quick polls.
    assert.equal(at(1, 3 * MIN), 5000);
  });

  it('adaptive jitter stays within ±20% and is not constant', () => {
    const random = seeded(7);
    const delays = Array.from({ length: 200 }, () => nextPollDelay(state({ polls: 10, taskAgeMs: 2 * MIN }), random));
    assert.ok(delays.every((d) => d >= 4000 && d <= 6000), `${Math.min(...delays)}..${Math.max(...delays)}`);
    assert.ok(new Set(delays).size > 50);
  });

  it('adaptive notices a 1-5 minute task about as fast as the SDK with fewer queries, and faster than a fixed 15 s', () => {
    const random = seeded(42);
    const sum = { adaptive: { q: 0, late: 0 }, sdk: { q: 0, late: 0 }, fixed: { q: 0, late: 0 } };
    for (let i = 0; i < 400; i++) {
      const finish = MIN + random() * 4 * MIN;
      for (const name of ['adaptive', 'sdk', 'fixed'] as const) {
        const r = simulatePolling(POLL_SCHEDULES[name], finish, random);
        sum[name].q += r.queries;
        sum[name].late += r.lateMs;
      }
    }
    assert.ok(sum.adaptive.q < sum.sdk.q, JSON.stringify(sum));
    assert.ok(sum.adaptive.late < sum.fixed.late / 2, JSON.stringify(sum));
    assert.ok(sum.adaptive.late < sum.sdk.late * 1.2, JSON.stringify(sum));
  });

  it('never returns a delay setTimeout cannot hold', () => {
    assert.equal(nextPollDelay(state({}), mid, fixedSchedule(3_000_000_000)), MAX_TIMER_MS);
    assert.equal(nextPollDelay(state({ failures: 1, retryAfterMs: Number.MAX_SAFE_INTEGER }), mid, SDK_SCHEDULE, { ...DEFAULT_OUTAGE_POLICY, maxRetryAfterMs: Infinity }), MAX_TIMER_MS);
    assert.equal(nextPollDelay(state({ failures: 5000 }), () => 1, SDK_SCHEDULE, { ...DEFAULT_OUTAGE_POLICY, maxDelayMs: Infinity }), MAX_TIMER_MS);
  });

  it('sleep never lets an over-long delay fire at once', async () => {
    const controller = new AbortController();
    let woke = false;
    const slept = sleep(3_000_000_000, controller.signal).then(() => (woke = true), () => 'aborted');
    await sleep(150);
    assert.equal(woke, false, 'a 3,000,000,000 ms sleep must not end after a few ms');
    controller.abort(new Error('stop'));
    assert.equal(await slept, 'aborted');
  });
});

describe('poll outage policy', () => {
  it('backs off exponentially after failures, capped, with jitter in the upper half', () => {
    const d = (failures: number, r: number) => nextPollDelay(state({ failures }), () => r);
    assert.deepEqual([d(1, 0), d(1, 1), d(2, 1), d(3, 1), d(7, 1), d(30, 1)], [500, 1000, 2000, 4000, 60_000, 60_000]);
  });

  it('waits at least a Retry-After, cut to the cap, instead of giving up on a long one', () => {
    assert.equal(nextPollDelay(state({ failures: 1, retryAfterMs: 30_000 }), mid), 30_000);
    assert.equal(nextPollDelay(state({ failures: 1, retryAfterMs: 3 * 60 * MIN }), mid), DEFAULT_OUTAGE_POLICY.maxRetryAfterMs);
    assert.ok(shouldRetryPoll(state({ failures: 1, retryAfterMs: 3 * 60 * MIN }), new WanApiError(429, 'Throttling.RateQuota', 'x', undefined, 3 * 60 * MIN)));
  });

  it('retries connection failures, throttling, 5xx and a 404 on the task URL; not a refused key or a bill', () => {
    for (const e of [
      new WanNetworkError('reset', true, 'ECONNRESET'),
      new WanNetworkError('refused', false, 'ECONNREFUSED'),
      new WanApiError(500, 'InternalError', 'x'),
      new WanApiError(503, 'ModelUnavailable', 'x'),
      new WanApiError(429, 'Throttling', 'x'),
      new WanApiError(404, 'HTTP404', 'not found'),
      new WanApiError(408, 'RequestTimeOut', 'x'),
    ]) {
      assert.ok(isTransientPollFailure(e), e.message);
    }
    for (const e of [
      new WanApiError(401, 'InvalidApiKey', 'x'),
      new WanApiError(403, 'AccessDenied', 'x'),
      new WanApiError(400, 'InvalidParameter', 'x'),
      new WanApiError(429, 'PrepaidBillOverdue', 'x'),
      new WanNetworkError('tls', false, 'ERR_TLS_CERT_ALTNAME_INVALID', { retryable: false }),
      new Error('a bug'),
    ]) {
      assert.ok(!isTransientPollFailure(e), e.message);
    }
  });

  it('keeps retrying for as long as the task lives (24 h), not for a few attempts', () => {
    const e = new WanApiError(500, 'InternalError', 'x');
    assert.ok(shouldRetryPoll(state({ failures: 500, taskAgeMs: 23 * 60 * MIN }), e));
    assert.ok(!shouldRetryPoll(state({ failures: 1, taskAgeMs: 24 * 60 * MIN + 1 }), e));
  });
});
