// The Gallery page: a search field, mode and date filters, and one card per saved video (poster frame, prompt,
// facts, Play / Reveal / Continue / Delete). It asks the host for the list with its filters and for an action
// on a card by its key; every visible word comes from the host (localized there).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { GalleryCard, GalleryChanged, GalleryInit, GalleryParams, GalleryResults } from '../../src/protocol/gallery';
import { formatBytes } from '../common/format';
import { ask, listen, sayReady, vscode } from '../common/rpc';
import './gallery.css';
import { withMedia } from '../common/media';

type Filter = GalleryParams['list'];
type DateRange = 'all' | 'today' | 'week' | 'month';
interface PageState {
  query: string;
  mode: NonNullable<Filter['mode']>;
  date: DateRange;
}

const app = document.getElementById('app')!;
const saved = (vscode.getState() as Partial<PageState> | undefined) ?? {};
const state: PageState = { query: saved.query ?? '', mode: saved.mode ?? 'all', date: saved.date ?? 'all' };
let init: GalleryInit | undefined;
let listing = 0;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function since(range: DateRange): number | undefined {
  const day = new Date();
  day.setHours(0, 0, 0, 0);
  if (range === 'today') return day.getTime();
  if (range === 'week') return day.getTime() - 6 * 86_400_000;
  if (range === 'month') return day.getTime() - 29 * 86_400_000;
  return undefined;
}

function select(id: string, label: string, options: Record<string, string>, value: string, onChange: (v: string) => void): HTMLElement {
  const sel = document.createElement('vscode-single-select');
  sel.id = id;
  sel.setAttribute('aria-label', label);
  for (const [v, text] of Object.entries(options)) {
    const option = document.createElement('vscode-option');
    option.setAttribute('value', v);
    if (v === value) option.setAttribute('selected', '');
    option.textContent = text;
    sel.append(option);
  }
  sel.addEventListener('change', () => onChange((sel as unknown as { value: string }).value));
  return sel;
}

const controls = el('div', { className: 'controls' });
const count = el('p', { className: 'count', id: 'count' });
count.setAttribute('role', 'status');
const grid = el('ul', { className: 'grid', id: 'grid' });

function renderControls(): void {
  const labels = init!.labels;
  const search = document.createElement('vscode-textfield');
  search.id = 'search';
  search.setAttribute('placeholder', labels.search);
  search.setAttribute('aria-label', labels.search);
  search.setAttribute('type', 'search');
  (search as unknown as { value: string }).value = state.query;
  let typing: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    state.query = (search as unknown as { value: string }).value;
    clearTimeout(typing);
    typing = setTimeout(() => void refresh(), 200);
  });
  const modes = select('mode', labels.mode, labels.modes, state.mode, (v) => {
    state.mode = v as PageState['mode'];
    void refresh();
  });
  const dates = select('date', labels.date, labels.dates, state.date, (v) => {
    state.date = v as DateRange;
    void refresh();
  });
  controls.replaceChildren(search, modes, dates);
}

function button(text: string, onClick: () => void, secondary = true): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = text;
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onClick);
  return b;
}

function act(card: GalleryCard, action: GalleryParams['act']['action']): void {
  void (ask('act', { key: card.key, action }) as Promise<GalleryResults['act']>).then(
    (r) => action === 'delete' && r.done && void refresh(),
    () => undefined, // the host tells the user
  );
}

function renderCard(card: GalleryCard): HTMLElement {
  const { labels, locale } = init!;
  const thumb = card.poster
    ? withMedia(el('img', { alt: '', className: 'thumb' }), card.poster)
    : withMedia(el('video', { preload: 'metadata', muted: true, className: 'thumb' }), card.video);
  thumb.addEventListener('click', () => act(card, 'play'));
  const facts = [
    new Date(card.madeAt).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' }),
    labels.modes[card.mode] ?? card.mode,
    card.resolution,
    card.durationS !== undefined ? new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(card.durationS) : undefined,
    formatBytes(card.bytes, locale),
    card.rehearsal ? labels.rehearsal : undefined,
  ].filter(Boolean);
  const actions = el(
    'div',
    { className: 'actions' },
    button(labels.play, () => act(card, 'play'), false),
    button(labels.reveal, () => act(card, 'reveal')),
    button(labels.continueVideo, () => act(card, 'continue')),
    button(labels.delete, () => act(card, 'delete')),
  );
  const item = el(
    'li',
    { className: 'card' },
    thumb,
    el('div', { className: 'title', title: card.title }, card.title),
    el('div', { className: 'file' }, card.fileName),
    el('div', { className: 'facts' }, facts.join(' · ')),
    actions,
  );
  item.dataset.key = card.key;
  item.dataset.mode = card.mode;
  return item;
}

async function refresh(): Promise<void> {
  if (!init) return;
  vscode.setState(state);
  const mine = ++listing;
  const filter: Filter = { query: state.query, mode: state.mode };
  const from = since(state.date);
  if (from !== undefined) filter.from = from;
  const result = (await ask('list', filter)) as GalleryResults['list'];
  if (mine !== listing) return; // a newer listing is on its way
  const { labels } = init;
  grid.replaceChildren(...result.cards.map(renderCard));
  count.textContent =
    result.total === 0 ? labels.empty : result.cards.length === 0 ? labels.noMatch : labels.count.replace('{0}', String(result.cards.length)).replace('{1}', String(result.total));
  app.setAttribute('aria-busy', 'false');
}

listen<GalleryInit | GalleryChanged>((message) => {
  if (message.type === 'init') {
    const first = !init;
    init = message;
    if (first) app.replaceChildren(controls, count, grid);
    renderControls();
    void refresh();
  } else if (message.type === 'changed') {
    void refresh();
  }
});
sayReady({ type: 'ready' }, () => init !== undefined);
