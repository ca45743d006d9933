// Runs the bundled rehearsal emulator as a child process on loopback, started on first use.
// A separate process keeps rendering (and any crash) out of the extension host.
import { fork, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';

const READY = /^WAN_EMULATOR_URL=(http:\/\/127\.0\.0\.1:\d+)\s*$/m;
const START_TIMEOUT_MS = 20_000;

export class EmulatorProcess implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private starting: Promise<string> | undefined;

  constructor(
    private readonly scriptPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The emulator's base URL, starting it when needed. */
  url(): Promise<string> {
    this.starting ??= this.start().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private start(): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = fork(this.scriptPath, ['--port', '0', '--host', '127.0.0.1'], { silent: true });
      this.child = child;
      let out = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(vscode.l10n.t('The rehearsal emulator did not start within {0} seconds.', START_TIMEOUT_MS / 1000)));
      }, START_TIMEOUT_MS);
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        for (const line of text.split(/\r?\n/)) if (line.trim()) this.log.debug(`[emulator] ${line}`);
        out += text;
        const match = READY.exec(out);
        if (match) {
          clearTimeout(timer);
          this.log.info(`Rehearsal emulator (not the real Wan model) listening on ${match[1]}`);
          resolve(match[1]!);
        }
      });
      // The emulator logs its requests on stderr: routine, not warnings.
      child.stderr?.on('data', (chunk: Buffer) => this.log.debug(chunk.toString().trimEnd()));
      // Without a listener a spawn failure would be thrown as an uncaught 'error' event.
      child.once('error', (error) => {
        clearTimeout(timer);
        this.log.error(`Rehearsal emulator could not start: ${error.message}`);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) {
          this.child = undefined;
          this.starting = undefined;
        }
        this.log.info(`Rehearsal emulator exited (${signal ?? code})`);
        reject(new Error(vscode.l10n.t('The rehearsal emulator stopped before it was ready.')));
      });
    });
  }

  dispose(): void {
    this.child?.kill();
    this.child = undefined;
    this.starting = undefined;
  }
}
