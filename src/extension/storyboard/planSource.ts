// The plan the editor shows, from the facts this window has. Until the storyboard service (made clips and tasks
// in flight, from the task records) is wired in, the plan knows the sources and the region only: every valid
// shot is "not made". One function, so the service replaces it in one place.
import { dirname } from 'node:path';
import type { Board } from '../../storyboard/board';
import { planBoard, type Plan } from '../../storyboard/plan';
import { checkSources } from '../../storyboard/prepare';
import { readEndpoint } from '../settings';

/** Singapore has no temporary upload: local audio cannot be sent there (the plan says so in its notes). */
function canUploadAudio(): boolean {
  const setting = readEndpoint();
  return !('endpoint' in setting) || (setting.endpoint.kind !== 'singapore' && setting.endpoint.kind !== 'singapore-workspace');
}

export async function planOf(board: Board, boardFile: string): Promise<Plan> {
  const sources = await checkSources(board, dirname(boardFile));
  return planBoard(board, { sources, made: () => undefined, lastMadeKey: () => undefined, inFlight: () => false, canUploadAudio: canUploadAudio() });
}
