// Where a run sends: the rehearsal emulator or a paid endpoint. The records the CLI writes say which, so a
// rehearsal's videos never count as spend, never teach a paid endpoint's schedule, and are never taken for a
// storyboard's film there. Only a loopback --base-url is asked (src/emulator/identity.ts).
import { isEmulatorAt } from '../emulator/identity';
import type { EndpointRef } from '../tasks/record';
import type { Io } from './runContext';

export async function runEndpoint(baseUrl: string, io: Io): Promise<EndpointRef> {
  if (!(await isEmulatorAt(baseUrl))) return { kind: 'custom', baseUrl };
  io.err(`${baseUrl} is the Wan Studio rehearsal emulator: its videos are stand-ins stamped REHEARSAL, not the Wan model's, free, and never counted as spend.`);
  return { kind: 'emulator', baseUrl };
}
