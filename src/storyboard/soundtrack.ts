// A soundtrack given as a URL (how a Singapore endpoint, with no temporary upload, takes one) is fetched for
// the assembly: ffmpeg reads local files only (the WebAssembly build in the VSIX has no network), and the
// film is to have its soundtrack whatever the board names. No vscode import.
import { open, rm } from 'node:fs/promises';
import { writeBody } from '../wan/download';
import { DEFAULT_TIMEOUTS } from '../wan/http';
import { MB } from '../wan/limits';
import { probeAudio } from '../wan/media';
import { getStream } from '../wan/stream';
import { AssemblyError } from './assemble';

/** A soundtrack is a few minutes of WAV or MP3 at most: a larger answer is not one. */
export const SOUNDTRACK_MAX_BYTES = 200 * MB;

/** The URL without its query: a presigned link's signature stays out of messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the soundtrack URL';
  }
}

/** The soundtrack can be fetched for the film (an oss:// upload or a data: URI cannot). */
export function isFetchable(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Downloads the soundtrack at `url` to `dest` and checks it is WAV or MP3; throws AssemblyError saying why not. */
export async function fetchSoundtrack(url: string, dest: string, signal?: AbortSignal): Promise<string> {
  const fail = (why: string) => new AssemblyError(`the soundtrack ${shown(url)} could not be laid under the film: ${why}`);
  try {
    const res = await getStream(url, { headers: {}, timeouts: DEFAULT_TIMEOUTS, signal });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw fail(`the download answered HTTP ${res.statusCode}`);
    }
    let bytes = 0;
    const file = await open(dest, 'w');
    try {
      // The download's writer: each block written while the next arrives, then given back to the reader.
      await writeBody(res.body, file, dest, (block) => {
        bytes += block.length;
        if (bytes > SOUNDTRACK_MAX_BYTES) throw fail(`it is larger than ${SOUNDTRACK_MAX_BYTES / MB} MB`);
      });
    } finally {
      await file.close();
    }
    const info = await probeAudio(dest).catch(() => null);
    if (!info) throw fail('it is not a WAV or MP3 file');
    return dest;
  } catch (error) {
    await rm(dest, { force: true });
    if (signal?.aborted) throw new AssemblyError('assembly canceled');
    if (error instanceof AssemblyError) throw error;
    throw fail(error instanceof Error ? error.message : String(error));
  }
}
