// Fetches a task's media (http(s) URL, data: URI, or oss:// from the upload store) into a work folder,
// then checks it with the protocol core's local-media validation, as the service does when a task runs.
import { createWriteStream } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AUDIO, IMAGE, VIDEO } from '../wan/limits';
import { parseDataUri, type MediaType } from '../wan/schema';
import type { UploadStore } from './upload';

/** A media problem that fails the task with InvalidParameter. */
export class MediaFetchError extends Error {}

const LIMIT: Record<MediaType, number> = {
  first_frame: IMAGE.maxBytes,
  last_frame: IMAGE.maxBytes,
  driving_audio: AUDIO.maxBytes,
  first_clip: VIDEO.maxBytes,
};

function fileNameFor(type: MediaType, url: string): string {
  let name = '';
  if (/^https?:/i.test(url) || /^oss:/i.test(url)) {
    try {
      name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    } catch {
      name = url.split('/').pop() ?? '';
    }
  }
  name = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-80);
  return `${type}-${name || 'media'}`;
}

/** Downloads/decodes one media item into `dir`; returns the local path. */
export async function fetchMedia(
  type: MediaType,
  url: string,
  dir: string,
  uploads: UploadStore,
  timeoutMs = 60_000,
): Promise<string> {
  const path = join(dir, fileNameFor(type, url));
  const limit = LIMIT[type];
  if (/^data:/i.test(url)) {
    const parsed = parseDataUri(url);
    if (!parsed) throw new MediaFetchError(`${type}: the data URI is malformed`);
    await writeFile(path, Buffer.from(parsed.base64, 'base64'));
    return path;
  }
  if (/^oss:\/\//i.test(url)) {
    const obj = uploads.resolve(url);
    if (!obj) throw new MediaFetchError(`${type}: the oss:// object ${url} does not exist or has expired`);
    await copyFile(obj.path, path);
    return path;
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    throw new MediaFetchError(`${type}: the url ${url} could not be downloaded (${(e as Error).message})`);
  }
  if (!res.ok || !res.body) {
    throw new MediaFetchError(`${type}: the url ${url} could not be downloaded (HTTP ${res.status})`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new MediaFetchError(`${type}: the file at ${url} is larger than ${limit / 1024 / 1024} MB`);
  let seen = 0;
  const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) body.destroy(new MediaFetchError(`${type}: the file at ${url} is larger than ${limit / 1024 / 1024} MB`));
  });
  try {
    await pipeline(body, createWriteStream(path));
  } catch (e) {
    if (e instanceof MediaFetchError) throw e;
    throw new MediaFetchError(`${type}: the url ${url} could not be downloaded (${(e as Error).message})`);
  }
  return path;
}
