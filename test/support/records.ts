// A task record with sensible defaults, for tests.
import { randomUUID } from 'node:crypto';
import { newTaskRecord, type TaskRecord } from '../../src/tasks/record';

export function record(over: Partial<TaskRecord> = {}): TaskRecord {
  const now = Date.now();
  return newTaskRecord({
    id: randomUUID(),
    state: 'queued',
    request: { firstFrame: '/tmp/a.png', prompt: 'a cat' },
    endpoint: { kind: 'emulator', baseUrl: 'http://127.0.0.1:1' },
    requestedAt: now,
    updatedAt: now,
    ...over,
  });
}
