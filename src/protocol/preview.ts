// The slot's thumbnail rule, apart from the zod schemas so that the page can import it without zod.
import type { Probe } from './generate';

/** The thumbnail to show for the input now in a slot: a probe of an earlier input has none to give. */
export function previewOf(probe: Probe | undefined, source: string): string | undefined {
  return probe && probe.source === source ? probe.preview : undefined;
}
