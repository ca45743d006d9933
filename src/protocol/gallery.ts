// The message protocol between the Gallery view (extension host) and its page, defined once with zod, in the
// one style of ./rpc.ts: the page asks for the list (with its search and filters) and for an action on a card,
// each a request with one reply; the host greets the page with its strings and says when the list changed.
// The host validates every message from the page; the page imports only the types.
import { z } from 'zod';
import { GalleryEntrySchema, GalleryFilterSchema } from '../gallery/schema';
import { IncomingReply, parseWith, requestOf, type Reply } from './rpc';

/** webview → host: loaded (again after every reload of the view). */
export const GalleryReady = z.object({ type: z.literal('ready') }).strict();

export const GALLERY_ACTIONS = ['play', 'reveal', 'continue', 'delete'] as const;
export const GalleryActionSchema = z.enum(GALLERY_ACTIONS);
export type GalleryAction = z.infer<typeof GalleryActionSchema>;

/** The page's requests. A card is named by the key the host gave it: the page never names a file. */
export const GalleryListRequest = requestOf('list', GalleryFilterSchema);
export const GalleryActRequest = requestOf('act', z.object({ key: z.string().min(1).max(4096), action: GalleryActionSchema }).strict());

export const GalleryPageMessage = z.union([GalleryReady, GalleryListRequest, GalleryActRequest, IncomingReply]);
export type GalleryPageMessage = z.infer<typeof GalleryPageMessage>;

/** What each request carries, and what its reply holds. */
export interface GalleryParams {
  list: z.input<typeof GalleryFilterSchema>;
  act: { key: string; action: GalleryAction };
}

/** One video as the page shows it: the entry's facts, and its sources as webview URIs of files the host found. */
export const GalleryCard = GalleryEntrySchema.pick({ key: true, mode: true, madeAt: true, bytes: true, rehearsal: true, durationS: true, resolution: true })
  .extend({
    title: z.string(),
    fileName: z.string(),
    video: z.string(),
    /** The poster frame, once made (the page shows the video's own first frame until then). */
    poster: z.string().optional(),
    canContinue: z.boolean(),
  })
  .strict();
export type GalleryCard = z.infer<typeof GalleryCard>;

export interface GalleryResults {
  list: { cards: GalleryCard[]; total: number };
  act: { done: boolean };
}

/** Localized strings: the page has no English of its own. */
export const GalleryLabels = z
  .object({
    search: z.string(),
    mode: z.string(),
    date: z.string(),
    modes: z.record(z.string(), z.string()),
    dates: z.record(z.string(), z.string()),
    play: z.string(),
    reveal: z.string(),
    continueVideo: z.string(),
    delete: z.string(),
    rehearsal: z.string(),
    /** `{0}` shown of `{1}`. */
    count: z.string(),
    empty: z.string(),
    noMatch: z.string(),
  })
  .strict();
export type GalleryLabels = z.infer<typeof GalleryLabels>;

/** host → webview: the greeting (strings and locale); the page then asks for the list. */
export const GalleryInit = z.object({ type: z.literal('init'), labels: GalleryLabels, locale: z.string() }).strict();
/** host → webview: the list changed (a video saved, deleted, or its poster made): ask again. */
export const GalleryChanged = z.object({ type: z.literal('changed') }).strict();

export type GalleryInit = z.infer<typeof GalleryInit>;
export type GalleryChanged = z.infer<typeof GalleryChanged>;
export type GalleryReply = Reply<GalleryResults[keyof GalleryResults]>;
export type GalleryHostMessage = GalleryInit | GalleryChanged | GalleryReply;

export function parseGalleryMessage(raw: unknown) {
  return parseWith(GalleryPageMessage, raw);
}
