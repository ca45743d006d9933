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
  const f = el(opts.area ? 'vscode-textarea' : 'vscode-textfield', {}) as Field;
  f.dataset.key = key;
  f.value = value;
  f.setAttribute('aria-label', opts.label);
  if (opts.placeholder) f.setAttribute('placeholder', opts.placeholder);
  if (opts.area) f.setAttribute('rows', '3');
  f.addEventListener('change', () => f.value !== value && onChange(f.value));
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

function render(view: BoardView, force = false): void {
  const json = JSON.stringify(view);
  if (!force && json === drawn) return;
  drawn = json;
  // Keep what is being typed: a re-render (the document or a task changed) must not take the caret away.
  const active = document.activeElement as Field | null;
  const key = active?.dataset?.key;
  const typed = key && typeof active.value === 'string' ? active.value : undefined;
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
  if (view.syntax) {
    app.replaceChildren(toolbar, message, el('section', { className: 'syntax', id: 'syntax' }, [el('p', { textContent: L('syntax') }), el('pre', { role: 'alert', textContent: view.syntax })]));
    for (const b of [generate, assemble, add]) b.setAttribute('disabled', '');
  } else {
    const shots = el('ol', { className: 'shots', id: 'shots' }, view.shots.map((s, i) => card(view, s, i)));
    app.replaceChildren(toolbar, message, planBlock(view), settingsBlock(view), view.shots.length ? shots : el('p', { className: 'empty', textContent: L('noShots') }));
  }
  app.setAttribute('aria-busy', 'false');
  if (key) {
    const again = app.querySelector<Field>(`[data-key="${key}"]`);
    if (again) {
      if (typed !== undefined) again.value = typed;
      again.focus();
    }
  }
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
