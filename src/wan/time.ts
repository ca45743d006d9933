// The service writes times in UTC+8 as `YYYY-MM-DD HH:mm:ss.SSS`.
const OFFSET_MS = 8 * 60 * 60 * 1000;
const SERVICE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

export function formatServiceTime(date: Date): string {
  const iso = new Date(date.getTime() + OFFSET_MS).toISOString(); // YYYY-MM-DDTHH:mm:ss.SSSZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Parses a service time; undefined when absent or malformed. */
export function parseServiceTime(text: string | undefined): Date | undefined {
  const m = text ? SERVICE_TIME.exec(text.trim()) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms = '0'] = m;
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms.padEnd(3, '0'));
  return new Date(utc - OFFSET_MS);
}
