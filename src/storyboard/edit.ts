// Edits of a board's text, as the storyboard editor makes them: each one a change at a JSON path through
// jsonc-parser (VS Code's own), so the rest of the file (its order, its spacing, a hand-written field) stays as
// the user wrote it and a Git diff shows only what changed. Pure: text in, text out.
import { applyEdits, modify, parse, type FormattingOptions, type JSONPath, type ParseError } from 'jsonc-parser';
import type { StoryboardEdit } from '../protocol/storyboard';
import { BOARD_VERSION, BoardSettingsSchema, type Board } from './board';

/** A board's text for a new file: two-space JSON with a final newline. */
export function boardText(board: Board): string {
  return `${JSON.stringify(board, null, 2)}\n`;
}

/** An empty board (New Storyboard): its one problem, "has no shots", says what to do first. */
export function emptyBoard(): Board {
  return { version: BOARD_VERSION, settings: BoardSettingsSchema.parse({}), shots: [] };
}

function formatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

type Json = ReturnType<typeof parse>;

/** The raw shots as written (anything, since the text may be wrong in any way). */
function rawShots(json: Json): unknown[] {
  const shots = (json as { shots?: unknown } | null)?.shots;
  return Array.isArray(shots) ? (shots as unknown[]) : [];
}

function field(obj: unknown, key: string): unknown {
  return obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** `shot-N` with the first N no shot uses. */
export function newShotId(json: Json): string {
  const used = new Set(rawShots(json).map((s) => field(s, 'id')));
  let n = rawShots(json).length + 1;
  while (used.has(`shot-${n}`)) n++;
  return `shot-${n}`;
}

type Change = [JSONPath, unknown, { insert?: boolean }?];

const blankToRemove = (v: unknown) => (v === '' || v === null ? undefined : v);

function shotChanges(json: Json, edit: Extract<StoryboardEdit, { op: 'shot' }>): Change[] {
  const at = (...p: JSONPath): JSONPath => ['shots', edit.index, ...p];
  const shot = rawShots(json)[edit.index];
  if (shot === undefined) return [];
  const start = field(shot, 'start');
  switch (edit.field) {
    case 'prompt':
      return [[at('prompt'), edit.value ?? '']];
    case 'negativePrompt':
    case 'seed':
    case 'duration':
      return [[at(edit.field), blankToRemove(edit.value)]];
    case 'start': {
      if (edit.value === 'continue') return field(start, 'continue') === true ? [] : [[at('start'), { continue: true }]];
      if (field(start, 'keyframe') !== undefined) return [];
      // From a continuation to a keyframe: the previous shot's last keyframe is the natural first frame.
      const previousEnd = field(field(rawShots(json)[edit.index - 1], 'end'), 'keyframe');
      return [[at('start'), { keyframe: typeof previousEnd === 'string' ? previousEnd : '' }]];
    }
    case 'startKeyframe':
      return field(start, 'keyframe') !== undefined ? [[at('start', 'keyframe'), edit.value ?? '']] : [[at('start'), { keyframe: edit.value ?? '' }]];
    case 'overlap':
      return field(start, 'continue') === true ? [[at('start', 'overlap'), blankToRemove(edit.value)]] : [];
    case 'endKeyframe': {
      const value = blankToRemove(edit.value);
      return [[at('end'), value === undefined ? undefined : { keyframe: value }]];
    }
  }
}

function changesOf(json: Json, edit: StoryboardEdit): Change[] {
  const shots = rawShots(json);
  switch (edit.op) {
    case 'shot':
      return shotChanges(json, edit);
    case 'setting':
      return [[['settings', edit.field], edit.field === 'soundtrack' ? blankToRemove(edit.value) : edit.value]];
    case 'add': {
      const index = edit.after === undefined ? shots.length : Math.min(edit.after + 1, shots.length);
      const shot = { id: newShotId(json), prompt: '', duration: 5, start: index > 0 ? { continue: true } : { keyframe: '' } };
      return Array.isArray(field(json, 'shots')) ? [[['shots', index], shot, { insert: true }]] : [[['shots'], [shot]]];
    }
    case 'remove':
      return edit.index < shots.length ? [[['shots', edit.index], undefined]] : [];
    case 'move': {
      const shot = shots[edit.index];
      const to = Math.min(edit.to, shots.length - 1);
      if (shot === undefined || to === edit.index) return [];
      return [
        [['shots', edit.index], undefined],
        [['shots', to], shot, { insert: true }],
      ];
    }
  }
}

/**
 * The board's text after an edit from the editor, or undefined when the text is not JSON (the page shows the
 * syntax error; nothing is written over what the user is typing). The same text back means no change.
 */
export function editBoardText(text: string, edit: StoryboardEdit): string | undefined {
  const errors: ParseError[] = [];
  const json = parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0 || json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const formattingOptions = formatting(text);
  let result = text;
  for (const [path, value, options] of changesOf(json, edit)) {
    result = applyEdits(result, modify(result, path, value, { formattingOptions, isArrayInsertion: options?.insert === true }));
  }
  return result;
}

/** The one replacement that turns `before` into `after` (their common start and end left alone). */
export function minimalChange(before: string, after: string): { offset: number; length: number; text: string } {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let end = 0;
  while (end < max - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { offset: start, length: before.length - start - end, text: after.slice(start, after.length - end) };
}
