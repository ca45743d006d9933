// What the rehearsal emulator made, told by the record beside it: a video it rendered, or a frame the player
// took from one (named after it, beside it). A paid request made from either sends the emulator's stand-in,
// its REHEARSAL label and all, to the model. No vscode import.
import { isUrl } from '../wan/request';
import { videoOfFrame } from '../player/frame';
import { madeByRehearsal } from './sidecar';

export type RehearsalSource = 'clip' | 'frame';

/** 'clip' for a rehearsal's video, 'frame' for a frame taken from one; undefined otherwise, or when no record tells. */
export async function rehearsalSource(path: string): Promise<RehearsalSource | undefined> {
  if (isUrl(path)) return undefined;
  if (await madeByRehearsal(path)) return 'clip';
  const video = videoOfFrame(path);
  return video !== undefined && (await madeByRehearsal(video)) ? 'frame' : undefined;
}
