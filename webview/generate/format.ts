// Number formatting for the page (the host localizes the words).
import type { Probe } from '../../src/protocol/generate';
import { formatBytes } from '../common/format';

export function formatSeconds(seconds: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 1 }).format(seconds);
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "PNG · 750 × 1000 · 1.2 MB" / "MP3 · 3 s · 48 kB". */
export function describeProbe(p: Probe, locale: string, urlLabel: string): string {
  if (p.isUrl) return urlLabel;
  const parts: string[] = [];
  if (p.format) parts.push(p.format.toUpperCase());
  if (p.width && p.height) parts.push(`${p.width} × ${p.height}`);
  if (p.durationSeconds !== undefined) parts.push(formatSeconds(p.durationSeconds, locale));
  if (p.bytes !== undefined) parts.push(formatBytes(p.bytes, locale));
  return parts.join(' · ');
}

/** Code points, as the service counts them. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
