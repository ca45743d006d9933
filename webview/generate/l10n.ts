// The page's words: every one comes from the host (src/extension/panel/labels.ts), localized there.
import type { Labels } from '../../src/protocol/generate';

let labels: Labels = {};
let current = 'en';

export function setLabels(next: Labels, locale: string): void {
  labels = next;
  current = locale;
}

/** The window's locale, for numbers and times. */
export function locale(): string {
  return current;
}

/** A label by key, with `{0}`, `{1}`… filled in. */
export function L(key: string, ...args: (string | number)[]): string {
  return (labels[key] ?? key).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}
