// History from a folder of saved videos: the JSON sidecars beside them (the CLI learns from its --out
// folder), only those made on the same endpoint (an emulator's seconds or another region's queue teach
// nothing about this one). Unreadable or foreign files are skipped: a schedule must never fail a run.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PollSchedule } from '../../wan/poll';
import { accountKey } from '../queue';
import type { EndpointRef } from '../record';
import { endpointOfSidecar, type VideoSidecar } from '../sidecar';
import { cellOf, sampleOfSidecar, type CellInput, type TimingSample } from './history';
import { REHEARSAL_COLD_WINDOW, windowSchedule } from './learned';
import { isRehearsal } from '../spend';
import { EndPredictor, type EndWindow } from './predictor';

/** Reading stops after this many sidecars; a folder of thousands of videos needs no more to learn from. */
const MAX_SIDECARS = 1000;

/** `endpoint`: where the CLI sends (the emulator, or a base URL); a sidecar counts when it names the same account. */
export async function readFolderHistory(dir: string, endpoint: EndpointRef): Promise<TimingSample[]> {
  const wanted = accountKey(endpoint);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: TimingSample[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.json')).slice(0, MAX_SIDECARS)) {
    try {
      const json = JSON.parse(await readFile(join(dir, name), 'utf8')) as Partial<VideoSidecar> | null;
      // A record that does not say where it was made teaches nothing about this endpoint.
      if (typeof json?.endpoint !== 'string' || accountKey(endpointOfSidecar(json)) !== wanted) continue;
      const s = sampleOfSidecar(json);
      if (s) out.push(s);
    } catch {
      // not a sidecar, or half written: nothing to learn from it
    }
  }
  return out;
}

/** A schedule for one task about to be followed on `endpoint`, learned from the sidecars in `dir`, and what it expects. */
export async function learnedScheduleFor(dir: string, endpoint: EndpointRef, input: CellInput): Promise<{ schedule: PollSchedule; window?: EndWindow }> {
  const window = new EndPredictor(await readFolderHistory(dir, endpoint)).window(cellOf(input));
  return { schedule: windowSchedule(window ?? (isRehearsal(endpoint) ? REHEARSAL_COLD_WINDOW : undefined)), ...(window ? { window } : {}) };
}
