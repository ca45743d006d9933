// The storyboard editor's page: the plan (what Generate sends, in which order, what each bills, the total), the
// board's settings, and one card per shot. It holds no board of its own: every change is a request to the host,
// which edits the text document and sends the board back; every word comes from the host (localized there).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { BoardView, ProblemView, ShotView, StoryboardEdit, StoryboardInit, StoryboardParams, StoryboardUpdate } from '../../src/protocol/storyboard';
import { onFileDrop } from '../common/drop';
import { RequestError, ask, listen, sayReady } from '../common/rpc';
import { button, el } from '../generate/dom';
import { L, setLabels } from '../generate/l10n';
import './storyboard.css';
import { withMedia } from '../common/media';

type Field = HTMLElement & { value: string };
/** A text field: its document value (`base`) and its edit (`send`) are properties, so a field kept across a redraw takes the new board's. */
type TextField = Field & { base: string; send: (v: string) => void };
const TEXT_FIELDS = ['VSCODE-TEXTFIELD', 'VSCODE-TEXTAREA'];
const app = document.getElementById('app')!;
let greeted = false;
let current: BoardView | undefined;
/** The view last drawn: a task's progress re-plans the board often, and an unchanged board is not drawn again. */
let drawn = '';

const message = el('p', { id: 'message', className: 'message', role: 'alert' });

function request<M extends keyof StoryboardParams>(method: M, params: StoryboardParams[M]): void {
  message.textContent = '';
  ask(method, params).catch((error: unknown) => {
    message.textContent = error instanceof RequestError || error instanceof Error ? error.message : String(error);
  });
}
const edit = (e: StoryboardEdit) => request('edit', e);

/** Where a problem is shown: beside its field, on its card, or above the board. */
function placeOf(path: ProblemView['path'], shots: number): string {
  if (path[0] === 'shots' && typeof path[1] === 'number' && path[1] < shots) {
    const f = path[2];
    const field = f === 'start' ? (path[3] === 'overlap' ? 'overlap' : 'start') : f === 'end' ? 'end' : ['prompt', 'negativePrompt', 'seed', 'duration'].includes(String(f)) ? String(f) : 'card';
    return `shot:${path[1]}:${field}`;
  }
  if (path[0] === 'settings' && ['resolution', 'watermark', 'promptExtend', 'soundtrack'].includes(String(path[1]))) return `setting:${String(path[1])}`;
  return 'board';
}

function problemsAt(view: BoardView, place: string): HTMLElement {
  const list = view.problems.filter((p) => placeOf(p.path, view.shots.length) === place);
  const box = el('div', { className: 'problems' }, list.map((p) => el('div', { className: 'problem', role: 'alert', textContent: p.message })));
  box.dataset.place = place;
  return box;
}

function textField(key: string, value: string, onChange: (v: string) => void, opts: { area?: boolean; placeholder?: string; label: string }): Field {
  const f = el(opts.area ? 'vscode-textarea' : 'vscode-textfield', {}) as Field as TextField;
  f.dataset.key = key;
  f.value = value;
  f.base = value;
  f.send = onChange;
  f.setAttribute('aria-label', opts.label);
  if (opts.placeholder) f.setAttribute('placeholder', opts.placeholder);
  if (opts.area) f.setAttribute('rows', '3');
  f.addEventListener('change', () => f.value !== f.base && f.send(f.value));
  return f;
}

/** A number as typed: empty removes the field, anything else that is not a number goes as written (the host's check says why). */
function numberOrText(v: string): number | string | null {
  const t = v.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

function labelled(label: string, ...children: Node[]): HTMLElement {
  return el('label', { className: 'field' }, [el('span', { className: 'label', textContent: label }), ...children]);
}

function keyframeSlot(shot: ShotView, index: number, slot: 'start' | 'end'): HTMLElement {
  const source = slot === 'start' ? shot.keyframe : shot.end;
  const src = slot === 'start' ? shot.startThumb : shot.endThumb;
  const picture = src ? withMedia(el('img', { alt: source, className: 'thumb' }), src) : el('div', { className: 'thumb empty', textContent: L('noKeyframe') });
  picture.addEventListener('click', () => request('pick', { slot, index }));
  const box = el('div', { className: `slot slot-${slot}` }, [
    picture,
    el('div', { className: 'source', title: source, textContent: source || '—' }),
    el('div', { className: 'slot-actions' }, [
      button(L('pick'), () => request('pick', { slot, index }), true),
      ...(slot === 'end' && source ? [button(L('clear'), () => edit({ op: 'shot', index, field: 'endKeyframe', value: null }), true)] : []),
    ]),
  ]);
  onFileDrop(box, (uris) => request('drop', { slot, index, uris }));
  return box;
}

function startBlock(view: BoardView, shot: ShotView, index: number): HTMLElement {
  const kind = el('vscode-single-select', {}) as Field;
  kind.dataset.key = `shot:${index}:startKind`;
  kind.setAttribute('aria-label', L('start'));
  for (const [value, text] of [
    ['keyframe', L('startKeyframe')],
    ['continue', L('startContinue')],
  ]) {
    const option = el('vscode-option', { value, textContent: text });
    if ((shot.start === 'none' ? 'keyframe' : shot.start) === value) option.setAttribute('selected', '');
    kind.append(option);
  }
  kind.addEventListener('change', () => edit({ op: 'shot', index, field: 'start', value: kind.value }));
  const body =
    shot.start === 'continue'
      ? labelled(L('overlap'), textField(`shot:${index}:overlap`, shot.overlap, (v) => edit({ op: 'shot', index, field: 'overlap', value: numberOrText(v) }), { label: L('overlap'), placeholder: '3' }), problemsAt(view, `shot:${index}:overlap`))
      : keyframeSlot(shot, index, 'start');
  return el('div', { className: 'start' }, [labelled(L('start'), kind), body, problemsAt(view, `shot:${index}:start`)]);
}

function clipOf(shot: ShotView, index: number): HTMLElement | undefined {
  if (!shot.clip) return undefined;
  const video = withMedia(el('video', { muted: true, loop: true, preload: 'metadata', className: 'clip', title: L('play') }), shot.clip);
  video.addEventListener('mouseenter', () => void video.play().catch(() => undefined));
  video.addEventListener('mouseleave', () => video.pause());
  video.addEventListener('click', () => request('play', { index }));
  return video;
}

function card(view: BoardView, shot: ShotView, index: number): HTMLElement {
  const count = view.shots.length;
  const state = shot.state ? el('span', { className: `state state-${shot.state}`, textContent: L(`state_${shot.state}`) }) : undefined;
  const header = el('header', {}, [
    el('strong', { textContent: L('shot', index + 1) }),
    el('code', { textContent: shot.id }),
    ...(state ? [state] : []),
    ...(shot.billedSeconds !== undefined ? [el('span', { className: 'bill', textContent: L('billed', shot.billedSeconds) })] : []),
    el('span', { className: 'spacer' }),
    ...(index > 0 ? [button('←', () => edit({ op: 'move', index, to: index - 1 }), true)] : []),
    ...(index < count - 1 ? [button('→', () => edit({ op: 'move', index, to: index + 1 }), true)] : []),
    button('✕', () => edit({ op: 'remove', index }), true),
  ]);
  for (const [b, label] of [...header.querySelectorAll('vscode-button')].map((b) => [b, b.textContent === '←' ? L('moveEarlier') : b.textContent === '→' ? L('moveLater') : L('remove')] as const)) {
    b.setAttribute('title', label);
    b.setAttribute('aria-label', label);
  }
  const f = (name: 'prompt' | 'negativePrompt' | 'duration' | 'seed', label: string, numeric: boolean, area = false, placeholder?: string) =>
    labelled(
      label,
      textField(`shot:${index}:${name}`, shot[name], (v) => edit({ op: 'shot', index, field: name, value: numeric ? numberOrText(v) : v }), { area, label, placeholder }),
      problemsAt(view, `shot:${index}:${name}`),
    );
  const clip = clipOf(shot, index);
  const item = el('li', { className: 'card' }, [
    header,
    problemsAt(view, `shot:${index}:card`),
    el('div', { className: 'frames' }, [startBlock(view, shot, index), el('div', { className: 'end' }, [labelled(L('end')), keyframeSlot(shot, index, 'end'), problemsAt(view, `shot:${index}:end`)])]),
    ...(clip ? [clip] : []),
    f('prompt', L('prompt'), false, true),
    f('negativePrompt', L('negativePrompt'), false),
    el('div', { className: 'row' }, [f('duration', L('duration'), true), f('seed', L('seed'), true, false, L('seedPlaceholder'))]),
  ]);
  item.dataset.index = String(index);
  item.dataset.id = shot.id;
  if (shot.state) item.dataset.state = shot.state;
  return item;
}

function planBlock(view: BoardView): HTMLElement {
  const plan = view.plan;
  const total = el('p', { id: 'plan-total', className: 'total', role: 'status' });
  const rows: HTMLElement[] = [];
  if (!plan || !plan.ready) total.textContent = L('planBlocked');
  else if (plan.sends.length === 0) total.textContent = L('planNothing', plan.filmSeconds);
  else total.textContent = L('planSends', plan.sends.length, plan.billedSeconds, plan.filmSeconds);
  if (plan?.ready && plan.sends.length > 0) {
    plan.sends.forEach((s, i) =>
      rows.push(
        el('tr', {}, [
          el('td', { textContent: String(i + 1) }),
          el('td', { textContent: `${L('shot', s.index + 1)} · ${s.id}` }),
          el('td', { textContent: L('seconds', s.billedSeconds) }),
          el('td', { textContent: s.after ?? '' }),
        ]),
      ),
    );
  }
  const table = rows.length
    ? el('table', { id: 'plan-table' }, [
        el('thead', {}, [el('tr', {}, [L('planOrder'), L('planShot'), L('planBilled'), L('planWaits')].map((h) => el('th', { textContent: h })))]),
        el('tbody', {}, rows),
      ])
    : undefined;
  const notes = plan?.notes.length ? el('ul', { className: 'notes' }, plan.notes.map((n) => el('li', { textContent: n }))) : undefined;
  return el('section', { className: 'plan', id: 'plan' }, [el('h2', { textContent: L('plan') }), total, ...(table ? [table] : []), ...(notes ? [notes] : []), problemsAt(view, 'board')]);
}

function settingsBlock(view: BoardView): HTMLElement {
  const s = view.settings;
  const resolution = el('vscode-single-select', {}) as Field;
  resolution.dataset.key = 'setting:resolution';
  resolution.setAttribute('aria-label', L('resolution'));
  for (const r of ['720P', '1080P']) {
    const o = el('vscode-option', { value: r, textContent: r });
    if (s.resolution === r) o.setAttribute('selected', '');
    resolution.append(o);
  }
  resolution.addEventListener('change', () => edit({ op: 'setting', field: 'resolution', value: resolution.value }));
  const check = (field: 'watermark' | 'promptExtend', checked: boolean) => {
    const c = el('vscode-checkbox', { textContent: L(field) }) as HTMLElement & { checked: boolean };
    c.dataset.key = `setting:${field}`;
    c.checked = checked;
    c.addEventListener('change', () => edit({ op: 'setting', field, value: c.checked }));
    return el('div', {}, [c, problemsAt(view, `setting:${field}`)]);
  };
  const soundtrack = el('div', { className: 'soundtrack' }, [
    el('span', { className: 'label', textContent: L('soundtrack') }),
    el('code', { id: 'soundtrack', textContent: s.soundtrack || L('soundtrackNone') }),
    button(L('pick'), () => request('pick', { slot: 'soundtrack' }), true),
    ...(s.soundtrack ? [button(L('clear'), () => edit({ op: 'setting', field: 'soundtrack', value: null }), true)] : []),
    problemsAt(view, 'setting:soundtrack'),
  ]);
  onFileDrop(soundtrack, (uris) => request('drop', { slot: 'soundtrack', uris }));
  return el('section', { className: 'settings', id: 'settings' }, [
    el('h2', { textContent: L('settings') }),
    el('div', { className: 'row' }, [labelled(L('resolution'), resolution, problemsAt(view, 'setting:resolution')), check('watermark', s.watermark), check('promptExtend', s.promptExtend)]),
    soundtrack,
  ]);
}

/** The field that has the focus, if it is one of the board's. */
function focusedField(): Field | undefined {
  const a = document.activeElement;
  return a instanceof HTMLElement && a.dataset.key && app.contains(a) ? (a as Field) : undefined;
}

/** The field of the new drawing (under `root`) that is `field`: the same key, kind and shot (its id: shots move). */
function twinOf(field: Field, root: HTMLElement): Field | undefined {
  const shotOf = (e: Element) => e.closest<HTMLElement>('.card')?.dataset.id;
  return [...root.querySelectorAll<Field>(`[data-key="${field.dataset.key}"]`)].find((t) => t.tagName === field.tagName && shotOf(t) === shotOf(field));
}

function sameAttributes(kept: Element, drawn: Element): void {
  for (const a of [...kept.attributes]) if (!drawn.hasAttribute(a.name)) kept.removeAttribute(a.name);
  for (const a of [...drawn.attributes]) kept.setAttribute(a.name, a.value);
}

/**
 * Puts the new drawing (the children of `holder`) in the page but keeps `field`, the text field being typed into,
 * the element itself: its ancestors stay too (with the new drawing's attributes and other children) and it takes
 * the new drawing's document value and edit. So what is typed, the caret, the focus, the input's undo and its
 * pending change event all live on through a redraw, and keys typed just after it land in the field; what is
 * typed wins over the new drawing's text until it is sent on change. (A field moved or replaced loses the focus,
 * and a new vscode-elements field cannot take it back at once: it draws its input only on its first update, after
 * this function returns.) False when the new drawing has no such field (a removed shot, a syntax error) or lays it
 * out otherwise: then the page is drawn anew.
 */
function keepTyped(field: TextField, holder: HTMLElement): boolean {
  const twin = twinOf(field, holder) as TextField | undefined;
  if (!twin) return false;
  let o = field.parentElement;
  let n = twin.parentElement;
  for (; n && n !== holder; o = o.parentElement, n = n.parentElement) if (!o || o === app || o.tagName !== n.tagName) return false;
  if (o !== app) return false;
  // A field not typed in (its text still the document's) shows the document's new text, changed elsewhere.
  if (field.value === field.base && twin.base !== field.base) field.value = twin.base;
  field.base = twin.base;
  field.send = twin.send;
  for (const a of [...twin.attributes]) field.setAttribute(a.name, a.value);
  // From the field up to the page: every node around the kept one is the new drawing's; the kept one never leaves.
  for (let kept: HTMLElement = field, drawn: HTMLElement = twin; drawn !== holder; kept = kept.parentElement!, drawn = drawn.parentElement!) {
    const parent = kept.parentElement!;
    if (drawn.parentElement !== holder) sameAttributes(parent, drawn.parentElement!);
    const around = [...drawn.parentElement!.childNodes];
    const at = around.indexOf(drawn);
    for (const c of [...parent.childNodes]) if (c !== kept) c.remove();
    kept.before(...around.slice(0, at));
    kept.after(...around.slice(at + 1));
  }
  return true;
}

/**
 * Focuses the new drawing's `field` once its component has drawn its inner input (its `updateComplete`), with
 * what was typed and the caret or selection put back. This runs in the same turn as the redraw (Lit's update is a
 * microtask), before the next key is handled.
 */
function refocus(field: Field, typed: { value: string; from: number | null; to: number | null } | undefined): void {
  const again = twinOf(field, app);
  if (!again) return;
  if (typed) again.value = typed.value;
  void Promise.resolve((again as Partial<{ updateComplete: Promise<unknown> }>).updateComplete).then(() => {
    again.focus();
    const input = again.shadowRoot?.querySelector<HTMLInputElement | HTMLTextAreaElement>('input, textarea');
    if (typed && input && typed.from !== null && typed.to !== null) input.setSelectionRange(typed.from, typed.to);
  });
}

function render(view: BoardView, force = false): void {
  const json = JSON.stringify(view);
  if (!force && json === drawn) return;
  drawn = json;
  // What is being typed survives the redraw (the document or a task changed): see keepTyped and refocus.
  const active = focusedField();
  const input = active?.shadowRoot?.querySelector<HTMLInputElement | HTMLTextAreaElement>('input, textarea');
  const typed = active && TEXT_FIELDS.includes(active.tagName) ? { value: active.value, from: input?.selectionStart ?? null, to: input?.selectionEnd ?? null } : undefined;
  current = view;
  const generate = button(L('generate'), () => request('run', { action: 'generate' }), false);
  generate.id = 'generate';
  if (!view.plan?.ready || view.plan.sends.length === 0) generate.setAttribute('disabled', '');
  const assemble = button(L('assemble'), () => request('run', { action: 'assemble' }), true);
  assemble.id = 'assemble';
  if (!view.plan?.ready) assemble.setAttribute('disabled', '');
  const add = button(L('addShot'), () => edit({ op: 'add' }), true);
  add.id = 'add-shot';
  const toolbar = el('div', { className: 'toolbar' }, [el('h1', { textContent: view.fileName }), generate, assemble, add]);
  const holder = el('div', {});
  if (view.syntax) {
    holder.append(toolbar, message, el('section', { className: 'syntax', id: 'syntax' }, [el('p', { textContent: L('syntax') }), el('pre', { role: 'alert', textContent: view.syntax })]));
    for (const b of [generate, assemble, add]) b.setAttribute('disabled', '');
  } else {
    const shots = el('ol', { className: 'shots', id: 'shots' }, view.shots.map((s, i) => card(view, s, i)));
    holder.append(toolbar, message, planBlock(view), settingsBlock(view), view.shots.length ? shots : el('p', { className: 'empty', textContent: L('noShots') }));
  }
  if (!(active && typed && keepTyped(active as TextField, holder))) {
    app.replaceChildren(...holder.childNodes);
    if (active) refocus(active, typed);
  }
  app.setAttribute('aria-busy', 'false');
}

listen<StoryboardInit | StoryboardUpdate>((m) => {
  if (m.type === 'init') {
    greeted = true;
    setLabels(m.labels, m.locale);
    if (current) render(current, true);
  } else if (m.type === 'board') {
    render(m.view);
  }
});
sayReady({ type: 'ready' }, () => greeted);
