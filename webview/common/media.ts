// The page's side of media over the message channel (src/protocol/mediaRef.ts says why): the bytes behind a
// reference the host gave, asked for a chunk at a time and played from a blob. A URL source is used as it is.
import { MEDIA_CHUNK_BYTES, isMediaRef, type MediaChunk } from '../../src/protocol/mediaRef';
import { ask } from './rpc';

/** Two files at a time: a studio opening on twenty results shows the first ones first. */
const AT_ONCE = 2;
const blobs = new Map<string, Promise<string>>();
const waiting: (() => void)[] = [];
let running = 0;

async function turn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function fetchBlob(ref: string): Promise<string> {
  const parts: Uint8Array[] = [];
  let offset = 0;
  let size = Number.POSITIVE_INFINITY;
  let mime = '';
  while (offset < size) {
    const chunk = (await ask('mediaChunk', { ref, offset, length: MEDIA_CHUNK_BYTES })) as MediaChunk;
    size = chunk.size;
    mime = chunk.mime;
    if (!chunk.bytes.byteLength) break;
    parts.push(chunk.bytes);
    offset += chunk.bytes.byteLength;
  }
  if (offset < size) throw new Error(`the file ended after ${offset} of ${size} bytes`);
  return URL.createObjectURL(new Blob(parts as BlobPart[], { type: mime }));
}

/** Blobs kept beyond those on the page: a studio that has made a hundred videos holds the ones it shows. */
const KEPT = 24;

/** Lets go of the oldest blobs no element shows any more, down to KEPT. */
function forgetUnused(): void {
  for (const [ref, url] of blobs) {
    if (blobs.size <= KEPT) return;
    if ([...document.querySelectorAll<HTMLElement>('[data-media]')].some((e) => e.dataset.media === ref)) continue;
    blobs.delete(ref);
    void url.then((u) => URL.revokeObjectURL(u), () => undefined);
  }
}

/** A URL the page can play for `source`: a blob of the host's file, or the source itself when it is a URL. */
export function mediaUrl(source: string): Promise<string> {
  if (!isMediaRef(source)) return Promise.resolve(source);
  let url = blobs.get(source);
  if (!url) {
    forgetUnused();
    url = turn(() => fetchBlob(source));
    blobs.set(source, url);
    // A failed load is asked for again next time.
    url.catch(() => blobs.delete(source));
  }
  return url;
}

/**
 * Shows `source` in an element once its bytes are here (`data-media` holds the reference meanwhile, for the
 * page's own checks and for tests). Rejects, with the host's reason, when they cannot be had.
 */
export async function showMedia(element: HTMLMediaElement | HTMLImageElement, source: string): Promise<void> {
  element.dataset.media = source;
  const url = await mediaUrl(source);
  // Another source may have been asked for meanwhile.
  if (element.dataset.media === source) element.src = url;
}

/** `element`, showing `source` once its bytes are here; an `error` event on it when they cannot be had. */
export function withMedia<T extends HTMLMediaElement | HTMLImageElement>(element: T, source: string): T {
  showMedia(element, source).catch(() => {
    if (element.dataset.media === source) element.dispatchEvent(new Event('error'));
  });
  return element;
}
