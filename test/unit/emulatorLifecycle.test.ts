// The emulator as the extension runs it: detached, found again through its state file, gone when idle,
// and telling the time by its own (test-controlled) clock in the Date header.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isEmulatorAt, isLoopbackUrl } from '../../src/emulator/identity';
import { startEmulator } from '../../src/emulator/server';
import { runningEmulator } from '../../src/extension/emulatorState';
import { tempDir } from '../support/fixtures';
import { until } from '../support/waiting';

const EMULATOR = resolve(__dirname, '../../../dist/emulator.js');
const HOUR = 3600_000;

describe('emulator lifecycle', () => {
  it('answers with a Date header on its own clock, jumps included', async () => {
    const emu = await startEmulator();
    try {
      const before = Date.parse((await fetch(`${emu.url}/__emulator/info`)).headers.get('date') ?? '');
      assert.ok(Math.abs(before - Date.now()) < 2000, 'an unadvanced clock tells the real time');
      await fetch(`${emu.url}/__emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 23 * HOUR }) });
      const after = Date.parse((await fetch(`${emu.url}/api/v1/tasks/nope`, { headers: { authorization: 'Bearer k' } })).headers.get('date') ?? '');
      assert.ok(Math.abs(after - (Date.now() + 23 * HOUR)) < 2000, `Date header ${new Date(after).toISOString()} is 23 h ahead`);
    } finally {
      await emu.close();
    }
  });

  it('is told from a paid endpoint only on loopback; as a gateway stand-in it is not told at all', async () => {
    for (const [url, loopback] of [
      ['http://127.0.0.1:8787', true],
      ['http://127.4.5.6', true],
      ['http://localhost:9/', true],
      ['http://[::1]:8787', true],
      ['https://dashscope.aliyuncs.com', false],
      ['http://127.0.0.1.example.com', false],
      ['http://10.0.0.1:8787', false],
      ['not a url', false],
    ] as const) {
      assert.equal(isLoopbackUrl(url), loopback, url);
    }
    const [emu, gateway] = await Promise.all([startEmulator(), startEmulator({ asGateway: true })]);
    try {
      assert.equal(await isEmulatorAt(emu.url), true);
      assert.equal(await isEmulatorAt(`${emu.url.replace('127.0.0.1', 'localhost')}/`), true);
      assert.equal(await isEmulatorAt(gateway.url), false);
      const task = await fetch(`${gateway.url}/api/v1/tasks/nope`, { headers: { authorization: 'Bearer k' } });
      assert.equal(task.headers.get('x-wan-emulator'), null, 'no answer of the stand-in names the emulator');
      assert.equal((await fetch(`${gateway.url}/__emulator/info`)).status, 404);
    } finally {
      await Promise.all([emu.close(), gateway.close()]);
    }
  });

  it('runs detached, writes its state file, keeps its data dir, and exits when idle, removing the state file', async function () {
    this.timeout(30_000);
    assert.ok(existsSync(EMULATOR), `${EMULATOR} is missing: run npm run build first`);
    const dir = await tempDir('emulator-lifecycle');
    const stateFile = join(dir, 'emulator.json');
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'keep.txt'), 'not the emulator’s');
    const child = spawn(
      process.execPath,
      [EMULATOR, '--port', '0', '--quiet', '--data-dir', dataDir, '--state-file', stateFile, '--idle-exit-minutes', String(1.5 / 60)],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const state = await until(
      'the state file',
      () => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { url: string; pid: number }) : undefined),
      15_000,
      50,
    );
    assert.equal(state.pid, child.pid);
    const info = await fetch(`${state.url}/__emulator/info`);
    assert.equal(info.headers.get('x-wan-emulator'), 'rehearsal');
    // Requests keep it alive past its idle limit.
    const started = Date.now();
    while (Date.now() - started < 2500) {
      await fetch(`${state.url}/__emulator/info`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(child.exitCode, null, 'still running while asked things');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started >= 2500 + 1000, 'it left only after being idle');
    assert.equal(existsSync(stateFile), false, 'its state file is gone');
    assert.equal(existsSync(join(dataDir, 'keep.txt')), true, 'a data dir it was given is not its to remove');
  });
  // Seen in a trial on a loaded machine: a reloaded window gave the running emulator 2 s to answer, started a
  // second one and removed the first one's data, so every task the first held became unknown to the window.
  it('a window finds the running emulator although it answers slowly, and gives up at once on a port nobody listens on', async function () {
    this.timeout(30_000);
    const dir = await tempDir('wan-emu-find-');
    const stateFile = join(dir, 'emulator.json');
    const slow: Server = createServer((req, res) => {
      setTimeout(() => res.writeHead(200, { 'x-wan-emulator': 'rehearsal', 'content-type': 'application/json' }).end('{}'), 3500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
      await writeFile(stateFile, JSON.stringify({ url, pid: process.pid }));
      assert.deepEqual(await runningEmulator(stateFile), { url, pid: process.pid }, 'the running emulator, not a reason to start another');
    } finally {
      await new Promise((r) => slow.close(r));
    }
    // Nothing listens there now: no patience is owed to a refused connection.
    const t0 = Date.now();
    assert.equal(await runningEmulator(stateFile), undefined);
    assert.ok(Date.now() - t0 < 2000, `a refused port is given up at once (${Date.now() - t0} ms)`);
  });
});
