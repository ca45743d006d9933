// The bundled rehearsal emulator, run as a detached process on loopback. Its tasks live in its memory,
// so it must outlive a window reload: every window of this user reuses the one that runs (found through
// a state file in globalStorage and checked with a cheap request), and it leaves by itself once idle.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { answers } from '../emulator/identity';
import { isAlive, readEmulatorState, runningEmulator, type EmulatorState } from './emulatorState';

export type { EmulatorState };

const START_TIMEOUT_MS = 20_000;
const LOCK_STALE_MS = 30_000;
/** A URL checked this recently is trusted without another request. */
const RECHECK_MS = 5000;
const LOG_LIMIT_BYTES = 2 * 1024 * 1024;

export interface EmulatorProcessOptions {
  scriptPath: string;
  /** globalStorage: the state file, the log and the emulator's data live here. */
  stateDir: string;
  log: vscode.LogOutputChannel;
  /** The emulator exits after this long with no request and no running task. */
  idleExitMinutes?: number;
  /** More emulator arguments (WAN_EMULATOR_ARGS), e.g. `--running-ms 60000` to rehearse long tasks. */
  extraArgs?: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EmulatorProcess implements vscode.Disposable {
  private current: (EmulatorState & { checkedAt: number }) | undefined;
  private starting: Promise<string> | undefined;
  private readonly stateFile: string;

  constructor(private readonly o: EmulatorProcessOptions) {
    this.stateFile = join(o.stateDir, 'emulator.json');
  }

  /** The emulator's base URL: the running one, or a new one started now. */
  async url(): Promise<string> {
    const known = this.current;
    if (known && Date.now() - known.checkedAt < RECHECK_MS) return known.url;
    if (known && isAlive(known.pid) && (await answers(known.url)) === 'yes') {
      known.checkedAt = Date.now();
      return known.url;
    }
    this.current = undefined;
    this.starting ??= this.findOrStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** The emulator this window uses, if it has found or started one. */
  state(): EmulatorState | undefined {
    return this.current && { url: this.current.url, pid: this.current.pid };
  }

  private async findOrStart(): Promise<string> {
    await mkdir(this.o.stateDir, { recursive: true });
    // Two windows opening at once must not start two emulators: each would hold half the tasks.
    const unlock = await this.lock();
    try {
      const found = await runningEmulator(this.stateFile);
      if (found) {
        this.current = { ...found, checkedAt: Date.now() };
        this.o.log.info(`Rehearsal emulator (not the real Wan model): reusing the one at ${found.url} (pid ${found.pid})`);
        return found.url;
      }
      const started = await this.start();
      this.current = { ...started, checkedAt: Date.now() };
      return started.url;
    } finally {
      await unlock();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const dir = join(this.o.stateDir, 'emulator.lock');
    const deadline = Date.now() + START_TIMEOUT_MS + 5000;
    for (;;) {
      try {
        await mkdir(dir);
        return () => rm(dir, { recursive: true, force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(dir).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > LOCK_STALE_MS || Date.now() > deadline) await rm(dir, { recursive: true, force: true });
        else await sleep(100);
      }
    }
  }

  private async start(): Promise<EmulatorState> {
    const dataDir = join(this.o.stateDir, 'emulator-data');
    const logFile = join(this.o.stateDir, 'emulator.log');
    // No emulator runs (we hold the lock): its uploads and results died with it.
    await rm(dataDir, { recursive: true, force: true });
    await rm(this.stateFile, { force: true });
    const size = await stat(logFile).then((s) => s.size, () => 0);
    if (size > LOG_LIMIT_BYTES) await truncate(logFile, 0);
    const args = [
      this.o.scriptPath,
      '--port', '0',
      '--host', '127.0.0.1',
      '--data-dir', dataDir,
      '--state-file', this.stateFile,
      '--idle-exit-minutes', String(this.o.idleExitMinutes ?? 20),
      ...(this.o.extraArgs ?? []),
    ];
    const out = openSync(logFile, 'a');
    let child;
    try {
      // Detached, in its own process group, with no pipe to this host: a reload or a crash of this window
      // leaves it running for the next one.
      child = spawn(process.execPath, args, {
        detached: true,
        stdio: ['ignore', out, out],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        windowsHide: true,
      });
    } finally {
      closeSync(out);
    }
    child.unref();
    let failure: Error | undefined;
    // Without a listener a spawn failure would be thrown as an uncaught 'error' event.
    child.once('error', (error) => (failure = error));
    child.once('exit', (code, signal) => (failure ??= new Error(`exit ${signal ?? code}`)));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const state = await readEmulatorState(this.stateFile);
      if (state && state.pid === child.pid) {
        this.o.log.info(`Rehearsal emulator (not the real Wan model) started: ${state.url} (pid ${state.pid}, log ${logFile})`);
        return state;
      }
      if (failure) {
        this.o.log.error(`Rehearsal emulator could not start: ${failure.message} (log ${logFile})`);
        throw new Error(vscode.l10n.t('The rehearsal emulator stopped before it was ready.'));
      }
      if (Date.now() > deadline) {
        if (child.pid) process.kill(child.pid);
        throw new Error(vscode.l10n.t('The rehearsal emulator did not start within {0} seconds.', START_TIMEOUT_MS / 1000));
      }
      await sleep(50);
    }
  }

  dispose(): void {
    // Nothing to stop: the emulator is shared with the next window and exits by itself when idle.
    this.current = undefined;
  }
}

/** WAN_EMULATOR_ARGS as an argument list ("--running-ms 60000 --pending-ms 5000"). */
export function emulatorArgsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.WAN_EMULATOR_ARGS ?? '').split(/\s+/).filter(Boolean);
}
