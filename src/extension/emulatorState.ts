// The running rehearsal emulator as a window finds it: the state file it writes in globalStorage names its
// URL and process, and a cheap request checks that it is still the emulator answering there. No vscode, so
// the unit tests check it against real processes and sockets.
import { readFile } from 'node:fs/promises';
import { answers } from '../emulator/identity';

export interface EmulatorState {
  url: string;
  pid: number;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * How long a live emulator that does not answer yet is waited for. On a loaded machine it (or this host) can take
 * seconds; starting a second one instead would leave every task the first one holds unknown to this window.
 */
const PATIENCE_MS = [2000, 5000, 10_000];

export async function readEmulatorState(stateFile: string): Promise<EmulatorState | undefined> {
  try {
    const s = JSON.parse(await readFile(stateFile, 'utf8')) as Partial<EmulatorState>;
    return typeof s.url === 'string' && typeof s.pid === 'number' ? { url: s.url, pid: s.pid } : undefined;
  } catch {
    return undefined;
  }
}

/** The emulator the state file names, when its process lives and it answers there (waited for while it is only slow). */
export async function runningEmulator(stateFile: string): Promise<EmulatorState | undefined> {
  const found = await readEmulatorState(stateFile);
  if (!found) return undefined;
  for (const timeoutMs of PATIENCE_MS) {
    if (!isAlive(found.pid)) return undefined;
    const answer = await answers(found.url, timeoutMs);
    if (answer !== 'slow') return answer === 'yes' ? found : undefined;
  }
  return undefined;
}
