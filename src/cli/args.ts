// Parses the wan-video command line into a checked command; wrong input is a CliUsageError.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEED_MAX } from '../wan/limits';
import { EndpointSchema, resolveBaseUrl } from '../wan/regions';
import { isUrl, type GenerationInput } from '../wan/request';
import type { Resolution } from '../wan/schema';

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export const USAGE = `Usage:
  wan-video generate --first-frame IMG [--last-frame IMG] [--audio AUDIO] --out DIR [options]
  wan-video generate --clip VIDEO [--last-frame IMG] --out DIR [options]
  wan-video status TASK_ID [endpoint options]
  wan-video wait TASK_ID --out DIR [endpoint options]
  wan-video cancel TASK_ID [endpoint options]
  wan-video list [--since T] [--until T] [--status S] [--limit N] [--spend DIR] [endpoint options]
  wan-video board plan FILE [--out DIR] [endpoint options]
  wan-video board run FILE --out DIR [endpoint options]
  wan-video --version | --help

Generation options:
  --prompt TEXT            what the video shows (up to 5000 characters)
  --negative-prompt TEXT   what to avoid (up to 500 characters)
  --resolution 720P|1080P  default 1080P
  --duration N             total output seconds, 2..15 (default 5); billed per second
  --seed N                 0..2147483647
  --no-prompt-extend       send the prompt as written
  --watermark              add the "AI Generated" mark
  --poll-interval S        poll every S seconds, 1..600 (default: learned from the .json
                           records in --out, else adaptive: a few quick polls, then
                           every 5-15 s as the task's age suggests)
  --json                   print one JSON object on stdout on every exit

List options (tasks of this model, newest first):
  --since T, --until T     a time (2026-04-25T10:00:00Z; 2026-04-25 10:00 is local time) or an
                           age (90s, 30m, 6h, 2d); default: the last 24 hours
  --status S               PENDING, RUNNING, SUCCEEDED, FAILED or CANCELED
  --limit N                at most N tasks, 1..1000 (default 20)
  --spend DIR              also the billed seconds of the videos saved in DIR (their .json
                           records' usage): today, this month, all time; rehearsals never count

Storyboards (FILE is a .wanboard.json):
  board plan               the shots that will be sent, in which order, and the billed seconds;
                           with --out, the clips already saved there count as made
  board run                generates the missing or outdated shots into --out (each clip with its
                           .json record), then writes NAME.mp4 and NAME.json beside the board
                           (not again while NAME.json lists exactly the shots' current clips)

Endpoint options (key from DASHSCOPE_API_KEY):
  --region beijing|singapore|singapore-workspace  (with --workspace-id ID)
  --base-url URL           a gateway or the local emulator
Sources are local files or http(s)/oss:// URLs (images may also be data: URIs).`;

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'generate'; input: GenerationInput; outDir: string; common: Common }
  | { kind: 'status' | 'cancel'; taskId: string; common: Common }
  | { kind: 'wait'; taskId: string; outDir: string; common: Common }
  | { kind: 'list'; filter: ListFilter; spendDir?: string; common: Common }
  | { kind: 'board-plan'; file: string; outDir?: string; baseUrl?: string; json: boolean }
  | { kind: 'board-run'; file: string; outDir: string; common: Common };

export interface ListFilter {
  since: Date;
  until?: Date;
  status?: ListStatus;
  limit: number;
}

export const LIST_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];
export const LIST_LIMIT_MAX = 1000;

export interface Common {
  baseUrl: string;
  /** The endpoint options as given, so a printed `wait` command reaches the same endpoint. */
  endpointArgs: string[];
  /** A fixed interval; undefined means the adaptive schedule. */
  pollIntervalMs?: number;
  json: boolean;
}

export const POLL_INTERVAL_MAX_S = 600;

/** An --out that names a video file: a folder of that name would surprise the user. */
const VIDEO_FILE_NAME = /\.(mp4|mov|m4v|mkv|webm|avi)$/i;

const OPTIONS = {
  'first-frame': { type: 'string' },
  'last-frame': { type: 'string' },
  audio: { type: 'string' },
  clip: { type: 'string' },
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  resolution: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  'no-prompt-extend': { type: 'boolean' },
  watermark: { type: 'boolean' },
  out: { type: 'string' },
  region: { type: 'string' },
  'workspace-id': { type: 'string' },
  'base-url': { type: 'string' },
  'poll-interval': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  spend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) throw new CliUsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}

function integerIn(name: string, text: string | undefined, min: number, max: number): number | undefined {
  const n = integer(name, text);
  if (n !== undefined && (n < min || n > max)) throw new CliUsageError(`--${name} must be ${min}..${max}, got ${n}`);
  return n;
}

/** Options whose value may be a negative number, which parseArgs would otherwise take for an option. */
const NUMERIC_OPTIONS = new Set(['--seed', '--duration', '--poll-interval', '--limit']);

/** `--seed -1` becomes `--seed=-1`, so a negative value reaches the range check instead of a parser error. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (NUMERIC_OPTIONS.has(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

const AGE_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time for --since/--until: an age before `now` (30m, 6h, 2d) or an ISO date and time. */
function when(name: string, text: string | undefined, now: number): Date | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const age = /^(\d+)\s*([smhd])$/i.exec(t);
  if (age) return new Date(now - Number(age[1]) * AGE_UNITS_MS[age[2]!.toLowerCase()]!);
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (iso && isCalendarTime(iso[1]!, iso[2])) {
    // Without a zone, ECMAScript reads a date alone as UTC but a date and time as local: say local for both.
    const ms = Date.parse(`${iso[1]}T${iso[2] ?? '00:00'}${iso[3] ?? ''}`);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new CliUsageError(`--${name} must be a time (2026-04-25T10:00:00Z, or 2026-04-25 10:00 in local time) or an age (30m, 6h, 2d), got "${text}"`);
}

/** Whether a date and time exist: Date.parse would take February 30 for March 2. */
function isCalendarTime(date: string, time: string | undefined): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh = 0, mm = 0, ss = 0] = (time ?? '').split(':').filter(Boolean).map(Number);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth && hh <= 23 && mm <= 59 && ss < 60;
}

/** Whether the user asked for JSON, even when the rest of the command line cannot be parsed. */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

function endpointArgs(values: Record<string, string | boolean | undefined>): string[] {
  if (values['base-url']) return ['--base-url', values['base-url'] as string];
  if (!values.region) return [];
  return ['--region', values.region as string, ...(values['workspace-id'] ? ['--workspace-id', values['workspace-id'] as string] : [])];
}

function endpointFrom(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): string {
  const baseUrl = values['base-url'] as string | undefined;
  const region = values.region as string | undefined;
  if (baseUrl && region) throw new CliUsageError('use either --base-url or --region, not both');
  const raw = baseUrl
    ? { kind: 'custom', baseUrl }
    : region === 'singapore-workspace'
      ? { kind: region, workspaceId: (values['workspace-id'] as string | undefined) ?? env.DASHSCOPE_WORKSPACE_ID ?? '' }
      : region
        ? { kind: region }
        : env.DASHSCOPE_BASE_URL
          ? { kind: 'custom', baseUrl: env.DASHSCOPE_BASE_URL }
          : undefined;
  if (!raw) {
    throw new CliUsageError('choose an endpoint: --region beijing|singapore|singapore-workspace, or --base-url URL');
  }
  const parsed = EndpointSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what = issue?.path.join('.') === 'kind' ? `--region must be beijing, singapore or singapore-workspace` : issue?.message;
    throw new CliUsageError(region === 'singapore-workspace' && issue?.path[0] === 'workspaceId' ? `--workspace-id ${what}` : `${what}`);
  }
  try {
    return resolveBaseUrl(parsed.data);
  } catch (error) {
    throw new CliUsageError(`--base-url: ${(error as Error).message}`);
  }
}

function fileUrlPath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

export function parseCommand(argv: string[], env: NodeJS.ProcessEnv, cwd: string, now = Date.now()): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [verb, ...rest] = positionals;
  if (values.help || verb === 'help') return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (!verb) return { kind: 'help' };
  const pollSeconds = integer('poll-interval', values['poll-interval']);
  if (pollSeconds !== undefined && (pollSeconds < 1 || pollSeconds > POLL_INTERVAL_MAX_S)) {
    throw new CliUsageError(`--poll-interval must be 1..${POLL_INTERVAL_MAX_S} seconds, got ${pollSeconds}`);
  }
  const common = (): Common => ({
    baseUrl: endpointFrom(values, env),
    endpointArgs: endpointArgs(values),
    ...(pollSeconds !== undefined ? { pollIntervalMs: pollSeconds * 1000 } : {}),
    json: values.json ?? false,
  });
  const outDir = () => {
    if (!values.out) throw new CliUsageError('--out DIR is required: where to save the video');
    if (VIDEO_FILE_NAME.test(values.out.replace(/[\\/]+$/, ''))) {
      throw new CliUsageError(
        `--out is the folder to save videos in, but ${values.out} looks like a video file name; the video is saved in it as wan-TASK_ID.mp4`,
      );
    }
    return resolve(cwd, values.out);
  };
  const local = (option: string, src: string | undefined) => {
    if (src === undefined || isUrl(src)) return src;
    // Any other URL would be read as a relative path and reported "not found": say what is wrong.
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(src)?.[1];
    if (scheme) {
      const path = scheme.toLowerCase() === 'file' ? ` (for a file on this machine, give its path: ${fileUrlPath(src) ?? 'without file://'})` : '';
      throw new CliUsageError(`--${option}: ${scheme}:// sources are not supported; give a local file, an http(s):// or oss:// URL${path}`);
    }
    // A URL mistyped (htp:/x, https:/x) is no file either. Two letters at least: C:/x is a Windows path.
    const mistyped = /^([a-z][a-z0-9+.-]+):\//i.exec(src)?.[1];
    if (mistyped) throw new CliUsageError(`--${option}: ${src} is neither a file nor a URL the CLI can read (a URL starts http://, https:// or oss://)`);
    return resolve(cwd, src);
  };

  switch (verb) {
    case 'generate': {
      if (rest.length) throw new CliUsageError(`unexpected argument "${rest[0]}"`);
      if (!values['first-frame'] && !values.clip) {
        throw new CliUsageError('generate needs --first-frame IMG or --clip VIDEO');
      }
      const resolution = values.resolution?.toUpperCase();
      const input: GenerationInput = {
        firstFrame: local('first-frame', values['first-frame']),
        lastFrame: local('last-frame', values['last-frame']),
        drivingAudio: local('audio', values.audio),
        firstClip: local('clip', values.clip),
        prompt: values.prompt,
        negativePrompt: values['negative-prompt'],
        resolution: resolution as Resolution | undefined,
        duration: integer('duration', values.duration),
        seed: integerIn('seed', values.seed, 0, SEED_MAX),
        promptExtend: values['no-prompt-extend'] ? false : undefined,
        watermark: values.watermark ? true : undefined,
      };
      return { kind: 'generate', input, outDir: outDir(), common: common() };
    }
    case 'status':
    case 'cancel':
    case 'wait': {
      const taskId = rest[0];
      if (!taskId || rest.length > 1) throw new CliUsageError(`${verb} takes exactly one TASK_ID`);
      if (verb === 'wait') return { kind: 'wait', taskId, outDir: outDir(), common: common() };
      return { kind: verb, taskId, common: common() };
    }
    case 'list': {
      if (rest.length) throw new CliUsageError(`unexpected argument "${rest[0]}"`);
      const since = when('since', values.since, now) ?? new Date(now - AGE_UNITS_MS.d!);
      const until = when('until', values.until, now);
      if (until && since.getTime() >= until.getTime()) throw new CliUsageError('--since must be before --until');
      const status = values.status?.trim().toUpperCase();
      if (status !== undefined && !(LIST_STATUSES as readonly string[]).includes(status)) {
        throw new CliUsageError(`--status must be one of ${LIST_STATUSES.join(', ')}, got "${values.status}"`);
      }
      const limit = integerIn('limit', values.limit, 1, LIST_LIMIT_MAX) ?? 20;
      const filter: ListFilter = { since, ...(until ? { until } : {}), ...(status ? { status: status as ListStatus } : {}), limit };
      const spendDir = values.spend !== undefined ? resolve(cwd, values.spend) : undefined;
      return { kind: 'list', filter, ...(spendDir ? { spendDir } : {}), common: common() };
    }
    case 'board': {
      const [action, file, ...more] = rest;
      if (action !== 'plan' && action !== 'run') throw new CliUsageError('board takes plan FILE or run FILE --out DIR');
      if (!file || more.length) throw new CliUsageError(`board ${action} takes exactly one FILE (a .wanboard.json)`);
      const path = resolve(cwd, file);
      if (action === 'run') return { kind: 'board-run', file: path, outDir: outDir(), common: common() };
      const endpointGiven = values['base-url'] !== undefined || values.region !== undefined;
      return { kind: 'board-plan', file: path, ...(values.out ? { outDir: outDir() } : {}), ...(endpointGiven ? { baseUrl: common().baseUrl } : {}), json: values.json ?? false };
    }
    default:
      throw new CliUsageError(`unknown command "${verb}"`);
  }
}
