// Matching a create whose answer was lost to the task it made: the pure decision the engine and the CLI
// share (src/wan/match.ts), rule by rule.
import assert from 'node:assert/strict';
import { decideMatch, type CandidateTask, type LostCreate } from '../../src/wan/match';

const T0 = Date.UTC(2026, 3, 25, 2, 0, 0);
const WINDOW = 120_000;

const create = (over: Partial<LostCreate> = {}): LostCreate => ({ key: 'a', prompt: 'a cat looks up', duration: 2, resolution: '720P', sentAt: T0, ...over });
const running = (taskId: string, over: Partial<CandidateTask> = {}): CandidateTask => ({ taskId, createdAt: T0 + 1000, status: 'RUNNING', ...over });
const succeeded = (taskId: string, prompt: string, over: Partial<CandidateTask> = {}): CandidateTask => ({
  taskId,
  createdAt: T0 + 1000,
  status: 'SUCCEEDED',
  origPrompt: prompt,
  usage: { duration: 2, SR: 720, output_video_duration: 2, input_video_duration: 0, video_count: 1 },
  ...over,
});
const decide = (c: LostCreate, candidates: CandidateTask[], now = T0 + 30_000, rivals: LostCreate[] = []) => decideMatch({ create: c, rivals, candidates, now, windowMs: WINDOW });

describe('matching an interrupted create to its task', () => {
  it('waits while a task of its window has not ended, even past the lookup window (its prompt is not known yet)', () => {
    for (const now of [T0 + 30_000, T0 + 120_000, T0 + 170_000]) {
      const d = decide(create(), [running('t1')], now);
      assert.deepEqual(d, { kind: 'wait', reason: 'open', open: ['t1'], fitting: [] }, `at +${(now - T0) / 1000} s`);
    }
  });

  it('adopts the task once it succeeded and echoes the prompt', () => {
    assert.deepEqual(decide(create(), [succeeded('t1', 'a cat looks up')], T0 + 170_000), { kind: 'adopt', taskId: 't1' });
  });

  it('compares with the prompt as the service keeps it (cut to 5000 characters), and no prompt with none', () => {
    const long = `${'猫'.repeat(4999)}xyz`;
    assert.deepEqual(decide(create({ prompt: long }), [succeeded('t1', `${'猫'.repeat(4999)}x`)]), { kind: 'adopt', taskId: 't1' });
    assert.deepEqual(decide(create({ prompt: undefined }), [succeeded('t1', '', { origPrompt: undefined })]), { kind: 'adopt', taskId: 't1' });
  });

  it('never adopts a task of another prompt, nor one whose usage says another duration or resolution', () => {
    const others = [
      succeeded('other-prompt', 'a dog'),
      succeeded('five-seconds', 'a cat looks up', { usage: { duration: 5, SR: 720 } }),
      succeeded('1080p', 'a cat looks up', { usage: { duration: 2, SR: 1080 } }),
    ];
    assert.deepEqual(decide(create(), others, T0 + 30_000), { kind: 'wait', reason: 'window', open: [], fitting: [] }, 'lists can lag: not yet');
    assert.deepEqual(decide(create(), others, T0 + WINDOW), { kind: 'unresolved', fitting: [] });
  });

  it('does not adopt a matching task while another task of the window has not ended', () => {
    const d = decide(create(), [succeeded('t1', 'a cat looks up'), running('t2')]);
    assert.deepEqual(d, { kind: 'wait', reason: 'open', open: ['t2'], fitting: ['t1'] });
  });

  it('calls a create unresolved only once every task of its window ended and none fits, and past the window', () => {
    assert.equal(decide(create(), [], T0 + 60_000).kind, 'wait');
    assert.deepEqual(decide(create(), [], T0 + WINDOW), { kind: 'unresolved', fitting: [] });
    assert.deepEqual(decide(create(), [{ taskId: 'f', createdAt: T0, status: 'FAILED' }], T0 + WINDOW), { kind: 'unresolved', fitting: [] });
  });

  it('tells two lost creates of one prompt apart by the usage their tasks report', () => {
    const two = create({ key: 'two', duration: 2 });
    const three = create({ key: 'three', duration: 3, sentAt: T0 + 5 });
    const tasks = [succeeded('t-three', 'a cat looks up', { usage: { duration: 3, SR: 720 } }), succeeded('t-two', 'a cat looks up', { usage: { duration: 2, SR: 720 } })];
    assert.deepEqual(decide(two, tasks, T0 + 60_000, [three]), { kind: 'adopt', taskId: 't-two' });
    assert.deepEqual(decide(three, tasks, T0 + 60_000, [two]), { kind: 'adopt', taskId: 't-three' });
  });

  it('never adopts while two tasks fit: same prompt, duration and resolution, sent at once', () => {
    const a = create({ key: 'a' });
    const b = create({ key: 'b', sentAt: T0 + 200 });
    const tasks = [succeeded('t1', 'a cat looks up'), succeeded('t2', 'a cat looks up', { createdAt: T0 + 2000 })];
    assert.deepEqual(decide(a, [tasks[0]!, running('t2')], T0 + 60_000, [b]), { kind: 'wait', reason: 'open', open: ['t2'], fitting: ['t1'] });
    assert.deepEqual(decide(a, tasks, T0 + 60_000, [b]), { kind: 'unresolved', fitting: ['t1', 't2'] });
    // One task for two creates: it fits both, so neither takes it.
    assert.deepEqual(decide(a, [tasks[0]!], T0 + 60_000, [b]), { kind: 'unresolved', fitting: ['t1'] });
  });

  it('pairs identical creates by creation order only when they were sent well apart', () => {
    const a = create({ key: 'a' });
    const b = create({ key: 'b', sentAt: T0 + 30_000 });
    const tasks = [succeeded('late', 'a cat looks up', { createdAt: T0 + 31_000 }), succeeded('early', 'a cat looks up', { createdAt: T0 + 1000 })];
    assert.deepEqual(decide(a, tasks, T0 + 90_000, [b]), { kind: 'adopt', taskId: 'early' });
    assert.deepEqual(decide(b, tasks, T0 + 90_000, [a]), { kind: 'adopt', taskId: 'late' });
  });
});
