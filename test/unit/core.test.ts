import assert from 'node:assert/strict';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanLocalFileError,
  WanNetworkError,
  WanValidationError,
  explainError,
  isLocalFileErrorCode,
  backoffDelay,
  estimateOutputSize,
  formatListTime,
  formatServiceTime,
  parseListTime,
  parseTaskTime,
  isSafeToRepeatCreate,
  isTransient,
  parseRetryAfter,
  parseServiceTime,
  resolveBaseUrl,
  withRetry,
  DEFAULT_RETRY,
} from '../../src/wan';

describe('output size estimate', () => {
  it('matches the FAQ example: 750x1000 at 720P gives 816x1104', () => {
    assert.deepEqual(estimateOutputSize({ width: 750, height: 1000 }, '720P'), { width: 816, height: 1104 });
  });
  it('keeps 16:9 at the tier size', () => {
    assert.deepEqual(estimateOutputSize({ width: 1920, height: 1080 }, '1080P'), { width: 1920, height: 1072 });
    assert.deepEqual(estimateOutputSize({ width: 1280, height: 720 }, '720P'), { width: 1280, height: 720 });
  });
  it('gives multiples of 16 near the tier pixel count for extreme aspects', () => {
    for (const [w, h] of [[240, 1920], [8000, 1000], [333, 777]] as const) {
      for (const tier of ['720P', '1080P'] as const) {
        const out = estimateOutputSize({ width: w, height: h }, tier);
        assert.equal(out.width % 16, 0);
        assert.equal(out.height % 16, 0);
        const target = tier === '720P' ? 921600 : 2073600;
        assert.ok(out.width * out.height <= target && out.width * out.height > target * 0.9, `${w}x${h} ${tier} -> ${out.width}x${out.height}`);
      }
    }
  });
});

describe('service time (UTC+8)', () => {
  it('round-trips', () => {
    const d = new Date(Date.UTC(2025, 8, 25, 3, 7, 28, 590));
    assert.equal(formatServiceTime(d), '2025-09-25 11:07:28.590');
    assert.equal(parseServiceTime('2025-09-25 11:07:28.590')?.getTime(), d.getTime());
  });
  it('writes task list bounds as yyyyMMddHHmmss in UTC+8, and reads them back', () => {
    const d = new Date(Date.UTC(2026, 3, 24, 20, 30, 5, 900));
    assert.equal(formatListTime(d), '20260425043005');
    assert.equal(parseListTime('20260425043005')?.getTime(), d.getTime() - 900);
    assert.equal(parseListTime('20261340000000'), undefined);
    assert.equal(parseListTime('2026-04-25'), undefined);
  });
  it('reads task list times in any of the forms the service may use', () => {
    const d = Date.UTC(2026, 3, 25, 2, 0, 0, 123);
    assert.equal(parseTaskTime('2026-04-25 10:00:00.123')?.getTime(), d);
    assert.equal(parseTaskTime('2026-04-25T10:00:00.123+08:00')?.getTime(), d);
    assert.equal(parseTaskTime(d)?.getTime(), d);
    assert.equal(parseTaskTime('20260425100000')?.getTime(), d - 123);
    assert.equal(parseTaskTime('2026-04-25T10:00:00'), undefined, 'no zone: ambiguous');
    assert.equal(parseTaskTime(null), undefined);
  });
  it('refuses malformed times', () => {
    assert.equal(parseServiceTime('yesterday'), undefined);
    assert.equal(parseServiceTime(undefined), undefined);
  });
});

describe('region endpoints', () => {
  it('knows Beijing, Singapore and the Singapore workspace domain', () => {
    assert.equal(resolveBaseUrl({ kind: 'beijing' }), 'https://dashscope.aliyuncs.com');
    assert.equal(resolveBaseUrl({ kind: 'singapore' }), 'https://dashscope-intl.aliyuncs.com');
    assert.equal(resolveBaseUrl({ kind: 'singapore-workspace', workspaceId: 'ws-1A2b' }), 'https://ws-1a2b.ap-southeast-1.maas.aliyuncs.com');
  });
  it('refuses a workspace ID that could change the host', () => {
    assert.throws(() => resolveBaseUrl({ kind: 'singapore-workspace', workspaceId: 'evil.com/x' }), /Workspace ID/);
  });
  it('normalises custom URLs and refuses unsafe ones', () => {
    assert.equal(resolveBaseUrl({ kind: 'custom', baseUrl: 'http://127.0.0.1:8787/api/v1/' }), 'http://127.0.0.1:8787');
    assert.throws(() => resolveBaseUrl({ kind: 'custom', baseUrl: 'ftp://x' }), /http or https/);
    assert.throws(() => resolveBaseUrl({ kind: 'custom', baseUrl: 'https://u:p@x' }), /credentials/);
    assert.throws(() => resolveBaseUrl({ kind: 'custom', baseUrl: 'not a url' }), /not a valid URL/);
  });
});

describe('retry policy', () => {
  it('parses Retry-After seconds and dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
  it('draws full-jitter delays under an exponential ceiling', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(0, policy, () => 0.999999), 100);
    assert.equal(backoffDelay(3, policy, () => 0.5), 400);
    assert.equal(backoffDelay(10, policy, () => 1), 1000);
    assert.equal(backoffDelay(2, policy, () => 0), 0);
  });
  it('treats throttling, server errors and lost connections as transient, client errors not', () => {
    assert.ok(isTransient(new WanApiError(429, 'Throttling', 'slow down')));
    assert.ok(isTransient(new WanApiError(503, 'ServiceUnavailable', 'x')));
    assert.ok(isTransient(new WanNetworkError('reset', true, 'ECONNRESET')));
    assert.ok(!isTransient(new WanApiError(400, 'InvalidParameter', 'x')));
    assert.ok(!isTransient(new WanApiError(401, 'InvalidApiKey', 'x')));
  });
  it('repeats a create only when it never left the machine', () => {
    assert.ok(isSafeToRepeatCreate(new WanNetworkError('refused', false, 'ECONNREFUSED')));
    assert.ok(!isSafeToRepeatCreate(new WanNetworkError('reset', true, 'ECONNRESET')));
    assert.ok(!isSafeToRepeatCreate(new WanApiError(500, 'InternalError', 'x')));
    assert.ok(!isSafeToRepeatCreate(new WanApiError(429, 'Throttling', 'x')));
  });
  it('retries until success, waiting Retry-After when given', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw new WanApiError(429, 'Throttling', 'x', undefined, 20);
        if (calls === 2) throw new WanNetworkError('reset', true);
        return 'done';
      },
      { policy: { ...DEFAULT_RETRY, baseDelayMs: 10 }, shouldRetry: isTransient, onRetry: (i) => waits.push(i.delayMs), random: () => 1 },
    );
    assert.equal(result, 'done');
    assert.equal(calls, 3);
    assert.deepEqual(waits, [20, 20]);
  });
  it('gives up after maxAttempts and on non-transient errors', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => { calls++; throw new WanApiError(503, 'Busy', 'x'); }, { policy: { ...DEFAULT_RETRY, maxAttempts: 3, baseDelayMs: 1 }, shouldRetry: isTransient }),
      /Busy/,
    );
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      withRetry(async () => { calls++; throw new WanApiError(400, 'InvalidParameter', 'x'); }, { policy: DEFAULT_RETRY, shouldRetry: isTransient }),
      /InvalidParameter/,
    );
    assert.equal(calls, 1);
  });
  it('does not wait a Retry-After longer than the policy allows', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => { calls++; throw new WanApiError(429, 'Throttling', 'x', undefined, 3_600_000); }, { policy: DEFAULT_RETRY, shouldRetry: isTransient }),
      /Throttling/,
    );
    assert.equal(calls, 1);
  });
});

describe('error explanations', () => {
  it('names the field for local validation errors', () => {
    const e = explainError(new WanValidationError([{ field: 'parameters.duration', message: 'must be at most 15 seconds' }]));
    assert.deepEqual(e, { code: 'InvalidInput', kind: 'input', message: 'parameters.duration: must be at most 15 seconds', hint: undefined });
  });
  it('gives the service code, request id and a hint for known codes', () => {
    const e = explainError(new WanApiError(401, 'InvalidApiKey', 'Invalid API-key provided.', 'req-1'));
    assert.equal(e.code, 'InvalidApiKey');
    assert.equal(e.message, 'InvalidApiKey: Invalid API-key provided. (request req-1)');
    assert.match(e.hint ?? '', /same region/);
    assert.match(explainError(new WanApiError(429, 'Throttling.Burst', 'slow down')).hint ?? '', /throttling this account/);
    assert.equal(explainError(new WanApiError(400, 'SomethingNew', 'x')).hint, undefined);
  });
  it('says a lost create was not repeated', () => {
    const e = explainError(new WanAmbiguousCreateError(new WanNetworkError('Create task failed: ECONNRESET', true, 'ECONNRESET')));
    assert.equal(e.code, 'CreateOutcomeUnknown');
    assert.match(e.message, /not retried, so no duplicate task can be billed/);
  });
  it('points local write failures at the disk, not the network', () => {
    for (const code of ['ENOSPC', 'EACCES', 'EROFS', 'EDQUOT']) {
      assert.ok(isLocalFileErrorCode(code));
      const e = explainError(new WanLocalFileError(code, '/videos/.wan-t.abc.part'));
      assert.equal(e.code, code);
      assert.match(e.message, new RegExp(`Could not write /videos/\\.wan-t\\.abc\\.part: ${code} \\(`));
      assert.match(e.hint ?? '', /disk space or choose another folder/);
      assert.ok(!isTransient(new WanLocalFileError(code, '/x')));
    }
    assert.ok(!isLocalFileErrorCode('ECONNRESET'));
  });
  it('points network failures at the endpoint', () => {
    const e = explainError(new WanNetworkError('Poll task t failed: ECONNREFUSED', false, 'ECONNREFUSED'));
    assert.equal(e.code, 'ECONNREFUSED');
    assert.match(e.hint ?? '', /endpoint/);
  });
});
