// The storyboard editor's edits of the board's text: each a change at one JSON path, the rest of the file (its
// order, spacing, a field written by hand) left as it was, and a text that is not JSON never written over.
import assert from 'node:assert/strict';
import { boardFromKeyframes, parseBoard } from '../../src/storyboard/board';
import { boardText, editBoardText, emptyBoard, minimalChange } from '../../src/storyboard/edit';

const board = () => boardText(boardFromKeyframes(['a.png', 'b.png', 'c.png']));

function edited(text: string, ...edits: Parameters<typeof editBoardText>[1][]): string {
  return edits.reduce((t, e) => {
    const next = editBoardText(t, e);
    assert.ok(next !== undefined, `edit ${JSON.stringify(e)} refused`);
    return next;
  }, text);
}

describe('storyboard editor: edits of the text', () => {
  it('changes only the field edited, keeping the rest of the text byte for byte', () => {
    const before = board().replace('"prompt": ""', '"prompt": "",   "seed": 7');
    const after = edited(before, { op: 'shot', index: 1, field: 'prompt', value: 'the sun sets' });
    const change = minimalChange(before, after);
    assert.equal(change.text.includes('the sun sets'), true);
    assert.equal(change.length, 0, 'an insertion only');
    assert.ok(after.includes('"prompt": "",   "seed": 7'), 'the hand-written spacing of shot 1 stays');
    const parsed = parseBoard(after);
    assert.ok(parsed.ok);
    assert.equal(parsed.board.shots[1]!.prompt, 'the sun sets');
  });

  it('adds a continuation, moves and removes shots, and writes the settings', () => {
    let text = edited(board(), { op: 'add' }, { op: 'setting', field: 'soundtrack', value: 'music.wav' }, { op: 'shot', index: 2, field: 'duration', value: 4 });
    let parsed = parseBoard(text);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    assert.deepEqual(parsed.board.shots.map((s) => s.id), ['shot-1', 'shot-2', 'shot-3']);
    assert.deepEqual(parsed.board.shots[2]!.start, { continue: true });
    assert.equal(parsed.board.settings.soundtrack, 'music.wav');
    text = edited(text, { op: 'move', index: 2, to: 0 });
    parsed = parseBoard(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.board.shots.map((s) => s.id), ['shot-3', 'shot-1', 'shot-2']);
    text = edited(text, { op: 'remove', index: 0 }, { op: 'setting', field: 'soundtrack', value: null }, { op: 'shot', index: 0, field: 'endKeyframe', value: null });
    parsed = parseBoard(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.board.shots.map((s) => s.id), ['shot-1', 'shot-2']);
    assert.equal(parsed.board.settings.soundtrack, undefined);
    assert.equal(parsed.board.shots[0]!.end, undefined);
  });

  it('switches how a shot starts: a continuation, then back to the keyframe the shot before ends on', () => {
    let text = edited(board(), { op: 'shot', index: 1, field: 'start', value: 'continue' }, { op: 'shot', index: 1, field: 'overlap', value: 4 });
    let parsed = parseBoard(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.board.shots[1]!.start, { continue: true, overlap: 4 });
    text = edited(text, { op: 'shot', index: 1, field: 'start', value: 'keyframe' });
    parsed = parseBoard(text);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.board.shots[1]!.start, { keyframe: 'b.png' });
  });

  it('writes a wrong value as given, for the board check to put beside its field', () => {
    const parsed = parseBoard(edited(board(), { op: 'shot', index: 0, field: 'duration', value: 'ten' }));
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.problems[0]!.path, ['shots', 0, 'duration']);
  });

  it('refuses to edit a text that is not JSON, and adds the first shot of an empty board with a keyframe to fill', () => {
    assert.equal(editBoardText('{ "version": 1, ', { op: 'add' }), undefined);
    const parsed = parseBoard(edited(boardText(emptyBoard()), { op: 'add' }));
    assert.ok(!parsed.ok, 'a keyframe is still to be chosen');
    assert.deepEqual(parsed.problems.map((p) => p.path), [['shots', 0, 'start', 'keyframe']]);
  });
});
