// The storyboard file (`name.wanboard.json`): a film as a row of shots. Hand-editable and diffable, so it
// holds only what the user decides; what was made lives in the task records, keyed by each shot's content.
import { parse as parseJson, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { NEGATIVE_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS, SEED_MAX } from '../wan/limits';
import { ResolutionSchema, charCount, fieldPath } from '../wan/schema';

export const BOARD_EXTENSION = '.wanboard.json';
export const BOARD_VERSION = 1;
/** Seconds of the previous shot a continuation is given as its first clip, unless the shot says otherwise. */
export const DEFAULT_OVERLAP_S = 3;

const text = (limit: number) =>
  z.string().refine((s) => charCount(s) <= limit, { error: (iss) => `is ${charCount(String(iss.input))} characters; the limit is ${limit}` });

/** A workspace file, written relative to the board's folder, or an http(s) URL. */
const SourceSchema = z.string().trim().min(1, 'names no file').describe('An image file relative to this board\'s folder, or an https URL.');

export const KeyframeStartSchema = z.strictObject({ keyframe: SourceSchema }).describe('Start from a keyframe image (the API\'s first_frame).');
export const ContinueStartSchema = z.strictObject({
  continue: z.literal(true, { error: 'must be true' }),
  /** Seconds of the previous shot's end sent as `first_clip` (2 to 10): repeated once in the film, not twice. */
  overlap: z
    .number()
    .int('must be a whole number of seconds')
    .min(2, 'must be at least 2 seconds')
    .max(10, 'must be at most 10 seconds')
    .optional()
    .describe(`Seconds of the previous shot's end sent as its first clip (2 to 10, default ${DEFAULT_OVERLAP_S}); billed again, shown once in the film.`),
}).describe('Continue the previous shot (the API\'s first_clip).');

export const ShotSchema = z.strictObject({
  /** Stable across edits and reordering: the task records name it. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1 to 40 letters, digits, - or _').describe('Stable name of the shot: its clips are found by it.'),
  prompt: text(PROMPT_MAX_CHARS).default('').describe(`What happens in the shot (up to ${PROMPT_MAX_CHARS} characters).`),
  negativePrompt: text(NEGATIVE_PROMPT_MAX_CHARS).optional().describe(`What the shot should avoid (up to ${NEGATIVE_PROMPT_MAX_CHARS} characters).`),
  seed: z.number().int('must be a whole number').min(0, 'must be at least 0').max(SEED_MAX, `must be at most ${SEED_MAX}`).optional().describe('Fixes the randomness, for a take that can be made again.'),
  /**
   * Seconds this shot adds to the film. A keyframe shot asks for exactly this; a continuation asks for its
   * overlap plus this (the API's duration is the whole output, the clip included).
   */
  duration: z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1 second')
    .describe('Seconds this shot adds to the film: 2 to 15 from a keyframe; for a continuation, at most 15 minus its overlap.'),
  start: z.union([KeyframeStartSchema, ContinueStartSchema], { error: 'must be {"keyframe": "path"} or {"continue": true}' }),
  end: z.strictObject({ keyframe: SourceSchema }).optional().describe('End on a keyframe image (the API\'s last_frame).'),
});
export type Shot = z.infer<typeof ShotSchema>;

export const BoardSettingsSchema = z.strictObject({
  resolution: ResolutionSchema.default('720P').describe('Every shot\'s resolution tier.'),
  watermark: z.boolean().default(false).describe('Add the service\'s watermark.'),
  promptExtend: z.boolean().default(true).describe('Let the service rewrite prompts.'),
  /** One audio file for the whole film: laid under the assembly, and sliced as each keyframe shot's driving audio. */
  soundtrack: z.string().trim().min(1, 'names no file').optional().describe('A WAV or MP3 file (relative to this board\'s folder) or https URL laid under the whole film.'),
});
export type BoardSettings = z.infer<typeof BoardSettingsSchema>;

export const BoardSchema = z.strictObject({
    version: z.literal(BOARD_VERSION, { error: `must be ${BOARD_VERSION}` }),
    settings: BoardSettingsSchema.default(() => BoardSettingsSchema.parse({})),
    shots: z.array(ShotSchema),
  });
export type Board = z.infer<typeof BoardSchema>;

/** One problem, with the JSON path it belongs to (`shots[1].duration`) so an editor can show it beside the field. */
export interface BoardProblem {
  path: (string | number)[];
  message: string;
  /** 1-based, for a syntax error. */
  line?: number;
  column?: number;
}

/** The JSON schema VS Code validates `*.wanboard.json` with (package.json jsonValidation), from the zod schema. */
export function boardJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(BoardSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }),
    title: 'Wan Studio storyboard',
  };
}

export type ParsedBoard = { ok: true; board: Board } | { ok: false; problems: BoardProblem[] };

/** Parses a board file's text: a JSON syntax error names its line and column; a bad field names its path. */
export function parseBoard(source: string): ParsedBoard {
  // jsonc-parser (VS Code's own) gives every syntax error its offset, which JSON.parse on Node 20 does not.
  const errors: ParseError[] = [];
  const json: unknown = parseJson(source, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0) return { ok: false, problems: errors.map((e) => syntaxProblem(source, e)) };
  const result = BoardSchema.safeParse(json);
  const problems: BoardProblem[] = [...duplicateIds(json)];
  if (result.success && problems.length === 0) return { ok: true, board: result.data };
  if (!result.success) problems.push(...result.error.issues.map((i) => ({ path: i.path.filter((p) => typeof p !== 'symbol'), message: i.message })));
  return { ok: false, problems };
}

function syntaxProblem(source: string, error: ParseError): BoardProblem {
  const before = source.slice(0, error.offset);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return { path: [], message: `JSON syntax: ${printParseErrorCode(error.error)} at line ${line}, column ${column}`, line, column };
}

/** Checked on the raw JSON so a duplicate shows even while another field of the board is wrong. */
function duplicateIds(json: unknown): BoardProblem[] {
  const shots = (json as { shots?: unknown } | null)?.shots;
  if (!Array.isArray(shots)) return [];
  const seen = new Set<unknown>();
  const problems: BoardProblem[] = [];
  shots.forEach((shot: { id?: unknown } | null, i) => {
    const id = shot?.id;
    if (typeof id !== 'string') return;
    if (seen.has(id)) problems.push({ path: ['shots', i, 'id'], message: `"${id}" is used by an earlier shot; ids must differ` });
    seen.add(id);
  });
  return problems;
}

/** `shots[1].start.keyframe`: how a problem's path reads in messages. */
export function describePath(path: readonly (string | number)[]): string {
  return fieldPath(path, '(board)');
}

/** A new board from keyframe images: one shot between each pair of neighbours (one shot for a single image). */
export function boardFromKeyframes(keyframes: readonly string[]): Board {
  const shots: Shot[] = [];
  const pairs = keyframes.length === 1 ? [[keyframes[0]!, undefined]] : keyframes.slice(0, -1).map((k, i) => [k, keyframes[i + 1]]);
  pairs.forEach(([from, to], i) =>
    shots.push({ id: `shot-${i + 1}`, prompt: '', duration: 5, start: { keyframe: from! }, ...(to ? { end: { keyframe: to } } : {}) }),
  );
  return { version: BOARD_VERSION, settings: BoardSettingsSchema.parse({}), shots };
}
