// The message protocol between the player panel (extension host) and its webview, defined once with zod.
// The host validates every message it receives with these schemas; the webview imports only the types.
// One style with the generation panel (./rpc.ts): the page's reports are notifications; the host's questions
// (the frame at a time) are requests with ids that the page answers with a reply.
import { z } from 'zod';
import { IncomingReply, parseWith, requestOf } from './rpc';

/** The largest frame PNG the host accepts (a 1080P frame is 1 to 5 MB; 8000 px sides stay below this). */
export const MAX_FRAME_PNG_BYTES = 40 * 1024 * 1024;
const MAX_FRAME_BASE64 = Math.ceil(MAX_FRAME_PNG_BYTES / 3) * 4;

/** Which file the page is playing: the user's file, or the sound preview copy made on the host. */
export const PlaySource = z.enum(['original', 'preview']);

const CanPlay = z.enum(['', 'maybe', 'probably']);

/**
 * webview → host: the page has loaded and can take a `load`. Sent again after every webview reload.
 * `canPlayAac`: `canPlayType('audio/mp4; codecs="mp4a.40.2"')`; an empty answer lets the host start with the
 * sound copy at once (a non-empty one proves nothing: desktop VS Code may claim AAC and still play it silently).
 */
export const ReadyMessage = z.object({ type: z.literal('ready'), canPlayAac: CanPlay.optional() }).strict();

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

/**
 * webview → host: whether this webview decodes the sound of what it plays. `canPlayAac` is
 * `canPlayType('audio/mp4; codecs="mp4a.40.2"')`; `result` comes from the decoders' byte counters during the
 * user's own playback (`playback`) or, on request, a short muted play of a detached copy (`probe`): `silent` means
 * video was decoded and audio was not (desktop VS Code with AAC, or no audio track), `unknown` that it could
 * not be measured.
 */
export const AudioReportMessage = z
  .object({
    type: z.literal('audioReport'),
    source: PlaySource,
    via: z.enum(['probe', 'playback']),
    canPlayAac: CanPlay,
    result: z.enum(['decoded', 'silent', 'unknown']),
    audioBytes: z.number().int().nonnegative(),
    videoBytes: z.number().int().nonnegative(),
  })
  .strict();

export const PLAYER_ACTIONS = ['openSystem', 'reveal', 'copyPrompt', 'generateAgain', 'continue'] as const;
export const PlayerAction = z.enum(PLAYER_ACTIONS);

/** webview → host: the user pressed an action button. `seed` only for generateAgain (else the host asks). */
export const ActionMessage = z
  .object({ type: z.literal('action'), action: PlayerAction, seed: z.enum(['same', 'new']).optional() })
  .strict();

/** A frame as a PNG: the page's answer to `captureFrame`, and what "Use This Frame" sends. */
export const CapturedFrame = z
  .object({
    /** Playhead position in seconds. */
    time: z.number().nonnegative(),
    width: z.number().int().min(1).max(8192),
    height: z.number().int().min(1).max(8192),
    pngBase64: z
      .string()
      .min(8)
      .max(MAX_FRAME_BASE64)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64'),
  })
  .strict();

/** webview → host: the frame under the playhead ("Use This Frame"). */
export const FrameMessage = CapturedFrame.extend({ type: z.literal('frame') }).strict();

/** webview → host: "Use This Frame" could not capture the frame. */
export const FrameErrorMessage = z.object({ type: z.literal('frameError'), message: z.string().max(2000) }).strict();

export const WebviewToHostMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  MetadataMessage,
  MediaErrorMessage,
  AudioReportMessage,
  ActionMessage,
  FrameMessage,
  FrameErrorMessage,
]);

/** Localized strings for the page; the webview has no English of its own. */
export const PlayerLabels = z
  .object({
    size: z.string(),
    duration: z.string(),
    dimensions: z.string(),
    loading: z.string(),
    /** Contains `{0}` for the browser's message. */
    mediaError: z.string(),
    details: z.string(),
    openSystem: z.string(),
    reveal: z.string(),
    copyPrompt: z.string(),
    generateAgain: z.string(),
    continueVideo: z.string(),
    useFrame: z.string(),
    /** Contains `{0}` for the browser's message. */
    frameError: z.string(),
  })
  .strict();

/** One line of what is known about the video (already localized and formatted by the host). */
export const Fact = z.object({ label: z.string(), value: z.string(), long: z.boolean().optional() }).strict();

/** host → webview: what to play. `src` is a webview resource URI; `bytes` the file size. */
export const LoadMessage = z
  .object({
    type: z.literal('load'),
    src: z.string().min(1),
    source: PlaySource,
    title: z.string(),
    bytes: z.number().int().nonnegative(),
    /** BCP 47 tag of the UI language, for number and unit formatting. */
    locale: z.string(),
    labels: PlayerLabels,
    /** From the video's sidecar or task record; empty when there is neither. */
    facts: z.array(Fact),
    /** Which buttons apply (Copy Prompt needs a prompt, Generate Again needs the settings). */
    enabled: z.object({ copyPrompt: z.boolean(), generateAgain: z.boolean() }).strict(),
  })
  .strict();

/** host → webview: a message under the video (sound status); `openSystem` adds that button. Empty text clears. */
export const NoticeMessage = z
  .object({ type: z.literal('notice'), level: z.enum(['info', 'warning']), text: z.string(), openSystem: z.boolean() })
  .strict();

/** host → webview request: the frame at `at` seconds (or under the playhead); the reply's result is a CapturedFrame. */
export const CaptureFrameRequest = requestOf('captureFrame', z.object({ at: z.number().nonnegative().optional() }).strict());

/**
 * host → webview: measure now whether the sound of what is loaded is decoded (a short muted play of a detached
 * copy) and answer with an `audioReport`. Otherwise the page measures during the user's own playback.
 */
export const CheckAudioMessage = z.object({ type: z.literal('checkAudio') }).strict();

export const HostToWebviewMessage = z.discriminatedUnion('type', [LoadMessage, NoticeMessage, CaptureFrameRequest, CheckAudioMessage]);

/** Everything the host accepts from the page: its notifications, and replies to the host's requests. */
export const PlayerPageMessage = z.union([WebviewToHostMessage, IncomingReply]);

export type PlaySource = z.infer<typeof PlaySource>;
export type ReadyMessage = z.infer<typeof ReadyMessage>;
export type MetadataMessage = z.infer<typeof MetadataMessage>;
export type MediaErrorMessage = z.infer<typeof MediaErrorMessage>;
export type AudioReportMessage = z.infer<typeof AudioReportMessage>;
export type PlayerAction = z.infer<typeof PlayerAction>;
export type ActionMessage = z.infer<typeof ActionMessage>;
export type CapturedFrame = z.infer<typeof CapturedFrame>;
export type FrameMessage = z.infer<typeof FrameMessage>;
export type FrameErrorMessage = z.infer<typeof FrameErrorMessage>;
export type WebviewToHostMessage = z.infer<typeof WebviewToHostMessage>;
export type PlayerLabels = z.infer<typeof PlayerLabels>;
export type Fact = z.infer<typeof Fact>;
export type LoadMessage = z.infer<typeof LoadMessage>;
export type NoticeMessage = z.infer<typeof NoticeMessage>;
export type CaptureFrameRequest = z.infer<typeof CaptureFrameRequest>;
export type CheckAudioMessage = z.infer<typeof CheckAudioMessage>;
export type HostToWebviewMessage = z.infer<typeof HostToWebviewMessage>;
export type PlayerPageMessage = z.infer<typeof PlayerPageMessage>;

/** What the video element reports once loaded. */
export type VideoMetadata = Omit<MetadataMessage, 'type'>;

/** Validates a message from the webview. Never throws. */
export function parseWebviewMessage(raw: unknown): { ok: true; message: PlayerPageMessage } | { ok: false; error: string } {
  return parseWith(PlayerPageMessage, raw);
}
