// How a page gets a video, a picture or a sound: the host names each file it shows with a reference, and the
// page asks for the file's bytes, a chunk at a time, through the message channel (./media.ts), then plays a
// blob of them. Never through the webview's resource loader, and why: in code-server (VS Code 1.100.3; not
// 1.139.1) the webview service worker's script URL holds the webview's id, so every new webview registers a
// new worker, and a new worker cannot take over while the old one has a load pending (Service Worker spec,
// "Try Activate"). A page closed or hidden in the middle of a load leaves that load waiting for the worker's
// 30 s timeout (its answer was to come from the frame just removed), and every webview opened meanwhile
// stays blank: 29.6 s after closing the player on an 85 MB video, measured in code-server 1.100.3.
// Apart from the zod schema, so that pages import it without zod.

/** What the references the host hands out start with; anything else (a URL source) the page loads itself. */
export const MEDIA_REF_PREFIX = 'wan-media:';
/** The most a page asks for at once: a message of a few MB crosses the channel without holding it up. */
export const MEDIA_CHUNK_BYTES = 4 * 1024 * 1024;

export const isMediaRef = (source: string): boolean => source.startsWith(MEDIA_REF_PREFIX);

/** host → page: one chunk of the file behind a reference. */
export interface MediaChunk {
  /** The whole file's size, in bytes. */
  size: number;
  mime: string;
  bytes: Uint8Array;
}
