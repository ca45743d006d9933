// The rehearsal figure's process (run by bench.ts, bundled beside it): from the end of a task to its video
// saved, on the host's side. The emulator (real renders, its default 2 s video) and the real task engine
// with its own poll schedule (learned from the store, adaptive without history), over loopback HTTP, real
// files. Prints one JSON line per task: milliseconds from the emulator's end of the task (its end_time) to
// the poll that saw SUCCEEDED, to the video saved in its folder, to the record beside it, to the
// announcement. The page's part (the webview loading and playing the video) is not in it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/server';
import { TaskEngine } from '../../src/tasks/engine';
import { TaskStore } from '../../src/tasks/store';
import { WanClient } from '../../src/wan';
import { parseServiceTime } from '../../src/wan/time';
import { makeImage } from '../support/fixtures';

const KEY = 'sk-bench-rehearsal-key';

async function main(): Promise<void> {
  const tasks = Number(process.argv[2] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'wan-bench-rehearsal-'));
  const emu = await startEmulator({ apiKeys: [KEY] });
  const store = new TaskStore({ file: join(dir, 'tasks.json'), leaseMs: 30_000 });
  const marks = new Map<string, { seen?: number; saved?: number; record?: number; announced?: number }>();
  store.onDidChange(() => {
    const now = Date.now();
    for (const r of store.all()) {
      const m = marks.get(r.id) ?? {};
      if (r.state === 'succeeded') m.seen ??= now;
      if (r.save?.state === 'saved') m.saved ??= now;
      if (r.save?.state === 'saved' && !r.save.pendingRecord) m.record ??= now;
      marks.set(r.id, m);
    }
  });
  const engine = new TaskEngine(
    {
      store,
      connect: async () => ({ client: new WanClient({ baseUrl: emu.url, apiKey: KEY }), endpoint: { kind: 'emulator', baseUrl: emu.url } }),
      log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
    },
    { ended: (r) => ((marks.get(r.id) ?? {}).announced ??= Date.now()) },
  );
  try {
    const image = await makeImage(join(dir, 'cat.png'), 640, 360);
    await store.load();
    engine.start();
    // One task after another, so each finds the ones before it in the store (the schedule learns).
    for (let i = 0; i < tasks; i++) {
      const created = Date.now();
      const r = await engine.submit({ firstFrame: image, prompt: `rehearsal ${i}`, duration: 2, resolution: '720P' }, { endpoint: { kind: 'emulator', baseUrl: emu.url }, outputFolder: join(dir, 'videos') });
      while (marks.get(r.id)?.announced === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      const done = store.get(r.id)!;
      const end = parseServiceTime(done.endTime)!.getTime();
      const m = marks.get(r.id)!;
      console.log(JSON.stringify({ taskMs: end - created, seenMs: m.seen! - end, savedMs: m.saved! - end, recordMs: m.record! - end, announcedMs: m.announced! - end, polls: done.polls }));
    }
  } finally {
    await engine.stop();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
