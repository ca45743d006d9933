// What the host found in one input and the slot's thumbnail rule, apart from the zod schemas so that the
// page can import them without zod.

/** What the host found in one input, for the line under it. */
export interface Probe {
  source: string;
  name: string;
  isUrl: boolean;
  kind: 'image' | 'audio' | 'video';
  /** Webview URI for a thumbnail or a small player (local files only). */
  preview?: string;
  /** How the input is shown: its workspace-relative path (absolute only outside every folder), or the URL. */
  display?: string;
  format?: string;
  width?: number;
  height?: number;
  durationSeconds?: number;
  bytes?: number;
}

/** The thumbnail to show for the input now in a slot: a probe of an earlier input has none to give. */
export function previewOf(probe: Probe | undefined, source: string): string | undefined {
  return probe && probe.source === source ? probe.preview : undefined;
}
