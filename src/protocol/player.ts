// The message protocol between the player panel (extension host) and its webview, defined once with zod.
// The host validates every message it receives with these schemas; the webview imports only the types.
import { z } from 'zod';

/** webview → host: the page has loaded and can take a `load`. Sent again after every webview reload. */
export const ReadyMessage = z.object({ type: z.literal('ready') }).strict();

/** webview → host: the video element has read the file's header. */
export const MetadataMessage = z
  .object({
    type: z.literal('metadata'),
    width: z.number().int().nonnegative(),
    height: z.number().int().nonnegative(),
    /** Seconds; finite (zod 4 numbers refuse Infinity and NaN). */
    duration: z.number().nonnegative(),
  })
  .strict();

/** webview → host: the video element could not load or decode the file. */
export const MediaErrorMessage = z.object({ type: z.literal('mediaError'), message: z.string().max(2000) }).strict();

/** webview → host: the user clicked "Reveal in Explorer". */
export const RevealMessage = z.object({ type: z.literal('reveal') }).strict();

export const WebviewToHostMessage = z.discriminatedUnion('type', [ReadyMessage, MetadataMessage, MediaErrorMessage, RevealMessage]);

/** Localized strings for the page; the webview has no English of its own. */
export const PlayerLabels = z
  .object({
    size: z.string(),
    duration: z.string(),
    dimensions: z.string(),
    loading: z.string(),
    reveal: z.string(),
    /** Contains `{0}` for the browser's message. */
    mediaError: z.string(),
  })
  .strict();

/** host → webview: what to play. `src` is a webview resource URI; `bytes` the file size. */
export const LoadMessage = z
  .object({
    type: z.literal('load'),
    src: z.string().min(1),
    title: z.string(),
    bytes: z.number().int().nonnegative(),
    /** BCP 47 tag of the UI language, for number and unit formatting. */
    locale: z.string(),
    labels: PlayerLabels,
  })
  .strict();

export const HostToWebviewMessage = z.discriminatedUnion('type', [LoadMessage]);

export type ReadyMessage = z.infer<typeof ReadyMessage>;
export type MetadataMessage = z.infer<typeof MetadataMessage>;
export type MediaErrorMessage = z.infer<typeof MediaErrorMessage>;
export type RevealMessage = z.infer<typeof RevealMessage>;
export type WebviewToHostMessage = z.infer<typeof WebviewToHostMessage>;
export type PlayerLabels = z.infer<typeof PlayerLabels>;
export type LoadMessage = z.infer<typeof LoadMessage>;
export type HostToWebviewMessage = z.infer<typeof HostToWebviewMessage>;

/** What the video element reports once loaded. */
export type VideoMetadata = Omit<MetadataMessage, 'type'>;

/** Validates a message from the webview. Never throws. */
export function parseWebviewMessage(raw: unknown): { ok: true; message: WebviewToHostMessage } | { ok: false; error: string } {
  const result = WebviewToHostMessage.safeParse(raw);
  return result.success ? { ok: true, message: result.data } : { ok: false, error: z.prettifyError(result.error) };
}
