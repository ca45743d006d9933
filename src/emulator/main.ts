// CLI: node dist/emulator.js [--port 8787] [--host 127.0.0.1] [--time-scale N] [--pending-ms N] [--running-ms N]
//   [--render-timeout-ms N] [--data-dir DIR] [--state-file FILE] [--idle-exit-minutes N] [--as-gateway] [--quiet]
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { startEmulator } from './server';

function usage(): never {
  process.stderr.write(
    'Usage: node dist/emulator.js [--port 8787] [--host 127.0.0.1] [--time-scale N] [--pending-ms N] [--running-ms N] [--api-key KEY]...\n' +
      '         [--render-timeout-ms N] [--data-dir DIR] [--state-file FILE] [--idle-exit-minutes N] [--as-gateway] [--quiet]\n',
  );
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const out = {
    port: 8787,
    host: '127.0.0.1',
    timeScale: 1,
    pendingMs: undefined as number | undefined,
    runningMs: undefined as number | undefined,
    renderTimeoutMs: undefined as number | undefined,
    apiKeys: [] as string[],
    dataDir: undefined as string | undefined,
    stateFile: undefined as string | undefined,
    idleExitMinutes: undefined as number | undefined,
    asGateway: false,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage();
      return v;
    };
    const num = (min: number) => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < min) usage();
      return n;
    };
    switch (flag) {
      case '--port': out.port = num(0); break;
      case '--host': out.host = value(); break;
      case '--time-scale': out.timeScale = num(Number.MIN_VALUE); break;
      case '--pending-ms': out.pendingMs = num(0); break;
      case '--running-ms': out.runningMs = num(0); break;
      case '--render-timeout-ms': out.renderTimeoutMs = num(1); break;
      case '--api-key': out.apiKeys.push(value()); break;
      case '--data-dir': out.dataDir = value(); break;
      case '--state-file': out.stateFile = value(); break;
      case '--idle-exit-minutes': out.idleExitMinutes = num(Number.MIN_VALUE); break;
      case '--as-gateway': out.asGateway = true; break;
      case '--quiet': out.quiet = true; break;
      case '-h': case '--help':
      default: usage();
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const emu = await startEmulator({
    port: args.port,
    host: args.host,
    timeScale: args.timeScale,
    ...(args.pendingMs !== undefined ? { pendingMs: args.pendingMs } : {}),
    ...(args.runningMs !== undefined ? { runningMs: args.runningMs } : {}),
    // A test run on a loaded machine renders slowly: a failed render must not be mistaken for a defect.
    ...(args.renderTimeoutMs !== undefined ? { renderTimeoutMs: args.renderTimeoutMs } : {}),
    ...(args.apiKeys.length ? { apiKeys: args.apiKeys } : {}),
    ...(args.dataDir ? { dataDir: args.dataDir } : {}),
    // A paid stand-in for tests: clients cannot tell it is the emulator (src/emulator/identity.ts).
    ...(args.asGateway ? { asGateway: true } : {}),
    log: args.quiet ? undefined : (line) => process.stderr.write(`[emulator] ${line}\n`),
  });
  process.stdout.write(
    [
      '================================================================',
      ' Wan emulator — REHEARSAL backend',
      ' This server is NOT the real Wan model and NOT Alibaba Cloud.',
      ' It speaks the Wan 2.7 image-to-video protocol and renders',
      ' labelled placeholder MP4s from your inputs with ffmpeg.',
      ` Model: wan2.7-i2v-2026-04-25   Clock speed: x${args.timeScale}`,
      ` Control plane: ${emu.url}/__emulator/{clock,faults,requests}`,
      '================================================================',
      `WAN_EMULATOR_URL=${emu.url}`,
      '',
    ].join('\n'),
  );
  // Whoever started us (the extension, detached) finds us, and knows we are ours, through this file.
  const stateFile = args.stateFile;
  if (stateFile) {
    const tmp = `${stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ url: emu.url, pid: process.pid, startedAt: new Date().toISOString() })}\n`);
    renameSync(tmp, stateFile); // never half a file for a reader
  }
  const forgetState = () => {
    if (!stateFile) return;
    try {
      if ((JSON.parse(readFileSync(stateFile, 'utf8')) as { pid?: unknown }).pid === process.pid) rmSync(stateFile, { force: true });
    } catch {
      /* gone or replaced by a newer emulator */
    }
  };
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    forgetState();
    process.stderr.write(`[emulator] ${signal}: shutting down\n`);
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Started by the extension (fork): when its host goes away, so do we, with our port and temp files.
  if (process.send) process.on('disconnect', () => stop('parent gone'));
  // Started detached (it outlives window reloads): it leaves once nobody has needed it for a while.
  if (args.idleExitMinutes !== undefined) {
    const idleLimitMs = args.idleExitMinutes * 60_000;
    setInterval(() => {
      if (emu.idleMs() >= idleLimitMs) stop(`idle for ${args.idleExitMinutes} min`);
    }, Math.min(15_000, Math.max(250, idleLimitMs / 4)));
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`wan emulator: ${(e as Error).message}\n`);
  process.exit(1);
});
