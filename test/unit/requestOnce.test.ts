// Issue 13.2: one Generate reads and base64-encodes its local image once, just before the create. Checking
// (the panel's verdict, the engine's refusal of a bad request) probes the file; only preparing reads it whole.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { DraftChecker, requestsOf } from '../../src/extension/panel/check';
import { startEmulator } from '../../src/emulator/server';
import { DraftSchema } from '../../src/protocol/generate';
import { TaskEngine } from '../../src/tasks/engine';
import { TaskStore } from '../../src/tasks/store';
import { WanClient, fixedSchedule } from '../../src/wan';
import { makeImage, tempDir } from '../support/fixtures';
import { until } from '../support/waiting';

const KEY = 'sk-request-once-key';

describe('one Generate reads its image once (issue 13.2)', function () {
  this.timeout(60_000);

  it('checks the draft, queues it and creates its task with one whole read of the image', async () => {
    const dir = await tempDir('request-once');
    const image = await makeImage(join(dir, 'once.png'), 320, 240);
    const emu = await startEmulator({ pendingMs: 60_000, runningMs: 60_000, apiKeys: [KEY] });
    const store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 3000 });
    await store.load();
    const engine = new TaskEngine({
      store,
      connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY }), endpoint: { kind: 'emulator', baseUrl: emu.url } }),
      schedule: fixedSchedule(60_000),
      log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
    });
    // A counting wrapper over the real read: every whole read of the image is a read and an encoding.
    const realReadFile = fsp.readFile;
    let reads = 0;
    fsp.readFile = ((path: Parameters<typeof realReadFile>[0], ...rest: unknown[]) => {
      if (path === image) reads++;
      return (realReadFile as (...a: unknown[]) => Promise<unknown>).call(fsp, path, ...rest);
    }) as typeof realReadFile;
    try {
      engine.start();
      // What the panel's Generate does: the verdict, then each request handed to the task layer.
      const draft = DraftSchema.parse({ firstFrame: image, prompt: 'read me once', duration: 2, resolution: '720P' });
      const verdict = await new DraftChecker({ required: (slot) => `choose ${slot}` }).check(draft);
      assert.ok(verdict.canGenerate, JSON.stringify(verdict.issues));
      assert.ok(verdict.outputSize, 'the verdict still gives the output size');
      const [request] = requestsOf(draft, 7);
      const record = await engine.submit(request!, { endpoint: { kind: 'emulator', baseUrl: emu.url }, outputFolder: dir });
      assert.deepEqual(record.outputSize, verdict.outputSize, 'the queued record still gives the output size');
      await until('the task is created', () => store.get(record.id)?.taskId, 30_000, 20);
      assert.equal(emu.requests().filter((q) => q.route === 'create').length, 1);
      assert.equal(reads, 1, `the image was read and encoded ${reads} times for one Generate`);
    } finally {
      fsp.readFile = realReadFile;
      await engine.stop();
      await emu.close();
    }
  });
});
