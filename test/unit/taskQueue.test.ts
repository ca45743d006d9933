// The local queue's admission rules, file naming, and the record helpers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { admit, throttleDelay } from '../../src/tasks/queue';
import { freeVideoPath, slugify, videoBaseName } from '../../src/tasks/naming';
import { endedAt, expiresAt, isExpired, taskLabel } from '../../src/tasks/record';
import { formatServiceTime } from '../../src/wan/time';
import { tempDir } from '../support/fixtures';
import { record } from '../support/records';

describe('task queue', () => {
  const now = 10_000_000;

  it('starts at most five at once and keeps the sixth queued', () => {
    const six = Array.from({ length: 6 }, (_, i) => record({ requestedAt: now - 100 + i }));
    const { start } = admit(six, now, { maxActive: 5, maxCreatesPerSecond: 10 });
    assert.equal(start.length, 5);
    assert.deepEqual(start.map((r) => r.requestedAt), six.slice(0, 5).map((r) => r.requestedAt), 'oldest request first');
  });

  it('counts tasks the service is working on against the five', () => {
    const busy = Array.from({ length: 4 }, () => record({ state: 'running', taskId: 't' }));
    const waiting = [record(), record()];
    assert.equal(admit([...busy, ...waiting], now).start.length, 1);
    const creating = record({ state: 'creating', sentAt: now - 5000 });
    assert.equal(admit([...busy, creating, ...waiting], now).start.length, 0);
  });

  it('keeps to five creates in any second and says when to look again', () => {
    const sent = Array.from({ length: 3 }, (_, i) => record({ state: 'succeeded', sentAt: now - 900 + i }));
    const waiting = Array.from({ length: 4 }, () => record());
    const { start, wakeAt } = admit([...sent, ...waiting], now);
    assert.equal(start.length, 2);
    assert.equal(wakeAt, now - 900 + 1000);
  });

  it('is not held by creates stamped far ahead of its clock (another clock stamped them)', () => {
    // After a reload the window's clock has not met the service's yet; the trial saw a create held 45-60 s by five
    // records stamped up to minutes ahead on the emulator's clock.
    const ahead = Array.from({ length: 5 }, (_, i) => record({ state: 'succeeded', sentAt: now + 60_000 + i }));
    assert.equal(admit([...ahead, record()], now).start.length, 1);
    // Within a second ahead (clocks that differ a little) they still count.
    const near = Array.from({ length: 5 }, (_, i) => record({ state: 'succeeded', sentAt: now + 500 + i }));
    const held = admit([...near, record()], now);
    assert.equal(held.start.length, 0);
    assert.equal(held.wakeAt, now + 1500);
  });

  it('holds a throttled request until its notBefore', () => {
    const held = record({ notBefore: now + 4000 });
    const { start, wakeAt } = admit([held], now);
    assert.equal(start.length, 0);
    assert.equal(wakeAt, now + 4000);
    assert.equal(admit([held], now + 4000).start.length, 1);
  });

  it('lets no newer request overtake one that backs off after throttling', () => {
    const held = record({ requestedAt: now - 2000, notBefore: now + 4000 });
    const newer = record({ requestedAt: now - 1000 });
    const other = record({ requestedAt: now - 500, endpoint: { kind: 'beijing', baseUrl: 'https://dashscope.aliyuncs.com' } });
    assert.deepEqual(admit([held, newer, other], now).start, [other]);
    assert.deepEqual(admit([held, newer, other], now + 4000).start.map((r) => r.id), [held.id, newer.id, other.id]);
  });

  it('counts each endpoint (account) separately', () => {
    const other = { kind: 'beijing' as const, baseUrl: 'https://dashscope.aliyuncs.com' };
    const busy = Array.from({ length: 5 }, () => record({ state: 'pending', taskId: 't' }));
    assert.equal(admit([...busy, record(), record({ endpoint: other })], now).start.length, 1);
  });

  it('backs off after throttling, at least as long as Retry-After says', () => {
    assert.equal(throttleDelay(1, 30_000, () => 0), 30_000);
    assert.equal(throttleDelay(1, undefined, () => 0), 1000);
    assert.equal(throttleDelay(20, undefined, () => 1), 60_000);
  });
});

describe('naming saved videos', () => {
  it('makes a readable slug of any script and cuts it at a word', () => {
    assert.equal(slugify('A cat, looking up at the STARS!'), 'a-cat-looking-up-at-the-stars');
    assert.equal(slugify('一只猫抬头看星星'), '一只猫抬头看星星');
    assert.equal(slugify('one two three four five six seven eight nine ten eleven'), 'one-two-three-four-five-six-seven-eight');
    assert.equal(slugify('!!!'), '');
  });

  it('names a video by date, prompt and short task ID, falling back to the input’s name', () => {
    const date = new Date(2026, 10, 27, 14, 32);
    assert.equal(videoBaseName({ date, prompt: 'The cat looks up', taskId: 'a1b2c3d4-e5f6' }), '2026-11-27_1432_the-cat-looks-up_a1b2c3d4');
    assert.equal(videoBaseName({ date, fallback: 'My Photo.PNG', taskId: 'x' }), '2026-11-27_1432_my-photo_x');
    assert.equal(videoBaseName({ date, taskId: '---' }), '2026-11-27_1432_video_task');
  });

  it('never reuses a name whose video or record exists', async () => {
    const dir = await tempDir('naming');
    assert.equal((await freeVideoPath(dir, 'v')).video, join(dir, 'v.mp4'));
    await writeFile(join(dir, 'v.mp4'), 'x');
    assert.equal((await freeVideoPath(dir, 'v')).video, join(dir, 'v-2.mp4'));
    await writeFile(join(dir, 'v-2.json'), '{}');
    const third = await freeVideoPath(dir, 'v');
    assert.deepEqual(third, { video: join(dir, 'v-3.mp4'), record: join(dir, 'v-3.json') });
  });
});

describe('task records', () => {
  it('expires 24 h after the end, or after submission while it runs', () => {
    const end = new Date('2026-11-27T06:00:00Z');
    const r = record({ state: 'succeeded', submitTime: formatServiceTime(new Date(end.getTime() - 60_000)), endTime: formatServiceTime(end) });
    assert.equal(expiresAt(r), end.getTime() + 24 * 3600_000);
    assert.equal(isExpired(r, end.getTime() + 24 * 3600_000 - 1), false);
    assert.equal(isExpired(r, end.getTime() + 24 * 3600_000), true);
    assert.equal(isExpired({ ...r, save: { state: 'saved', attempts: 1 } }, end.getTime() + 48 * 3600_000), false);
    assert.equal(expiresAt(record({ state: 'running', sentAt: 5 })), 5 + 24 * 3600_000);
    assert.equal(expiresAt(record()), undefined);
  });

  it('ended when the service says, counted from the send: not when a window noticed it (a reload) or last changed it', () => {
    // Found in a trial: a task of 8.8 s showed "0:24 elapsed" after a reload, from the record's last update.
    const submit = new Date('2026-11-27T06:00:00Z');
    const sentAt = Date.parse('2026-11-27T05:59:59.500Z'); // this machine's clock, half a second behind the service's send
    const r = record({ state: 'succeeded', sentAt, submitTime: formatServiceTime(submit), endTime: formatServiceTime(new Date(submit.getTime() + 9000)) });
    assert.equal(endedAt(r, sentAt + 24_000), sentAt + 9000);
    assert.equal(endedAt(record({ state: 'failed', sentAt }), sentAt + 24_000), sentAt + 24_000, 'without the service times: when noticed');
  });

  it('labels a task by its prompt or its input file', () => {
    assert.equal(taskLabel(record({ request: { prompt: '  a\n cat ' } })), 'a cat');
    assert.equal(taskLabel(record({ request: { firstFrame: '/w/images/cat.png' } })), 'cat.png');
    assert.equal(taskLabel(record({ request: { prompt: 'x'.repeat(100) } })).length, 80);
  });
});
