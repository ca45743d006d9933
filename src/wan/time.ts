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

const LIST_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** The task list's `start_time`/`end_time` form: `yyyyMMddHHmmss`, in the service's UTC+8 like its other times. */
export function formatListTime(date: Date): string {
  return new Date(date.getTime() + OFFSET_MS).toISOString().slice(0, 19).replace(/\D/g, '');
}

/** Parses `yyyyMMddHHmmss` (UTC+8); undefined when malformed. */
export function parseListTime(text: string | undefined): Date | undefined {
  const m = text ? LIST_TIME.exec(text.trim()) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!);
  const date = new Date(utc - OFFSET_MS);
  return formatListTime(date) === text!.trim() ? date : undefined;
}

/**
 * A time from a task list entry, read leniently: the service form (`YYYY-MM-DD HH:mm:ss.SSS`, UTC+8),
 * `yyyyMMddHHmmss`, ISO 8601 with a zone, or epoch milliseconds.
 */
export function parseTaskTime(value: string | number | undefined | null): Date | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const service = parseServiceTime(value) ?? parseListTime(value);
  if (service) return service;
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return undefined;
}
