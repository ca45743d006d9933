// The generation page, a studio in two panes: the form with Generate (form.ts) and the results as a gallery
// (gallery.ts) with a side-by-side comparison (compare.ts); beside each other when the panel is wide, one under
// the other when it is narrow. It checks nothing itself: every rule comes from the host's `validate` replies.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import type { Action, Draft, InitMessage, Validation } from '../../src/protocol/generate';
import { CompareView } from './compare';
import type { FormContext } from './context';
import { button, el } from './dom';
import { buildForm } from './form';
import { Gallery } from './gallery';
import { L, setLabels } from './l10n';
import { RequestError, listen, notify, request, sayReady, vscode } from './rpc';
import { dropTarget } from './slots';
import './generate.css';

interface PageState {
  draft: Draft;
  taskIds: string[];
  /** The results ticked for comparison. */
  picked?: string[];
}

let init: InitMessage | undefined;
let draft: Draft | undefined;
let validation: Validation | undefined;
let validating = 0;
let generating = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let form: ReturnType<typeof buildForm> | undefined;

const app = document.getElementById('app')!;
const compareButton = button('', () => openCompare(), false);
compareButton.id = 'compare-open';
const resultsBody = el('div', { className: 'results-body' });
const gallery = new Gallery({
  act: (id, action) => void act(action, id),
  open: (id, how) => void request('open', { taskId: id, how }),
  picked: (ids) => {
    compareButton.toggleAttribute('disabled', ids.length !== 2);
    save();
  },
});
// Made once the host's words are in (its labels are read when it is built).
let compare: CompareView | undefined;

function save(): void {
  if (!draft) return;
  const state: PageState = { draft, taskIds: gallery.ids(), picked: gallery.picked() };
  vscode.setState(state);
}

/** Every edit: keep it, tell the host, and ask for its verdict shortly. */
function changed(immediate = false): void {
  if (!draft) return;
  save();
  notify({ type: 'draft', draft });
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    void validate();
  }, immediate ? 0 : 250);
  form?.update();
}

async function validate(): Promise<void> {
  if (!draft) return;
  const mine = ++validating;
  form?.update();
  try {
    const result = await request('validate', { draft });
    if (mine !== validating) return; // a newer draft is being checked
    validation = result;
  } catch (error) {
    if (mine !== validating) return;
    validation = undefined;
    form?.general(error instanceof RequestError ? error.reply.error : String(error), error instanceof RequestError ? error.reply.actions : undefined);
  } finally {
    if (mine === validating) validating = 0;
    form?.update();
  }
}

async function act(action: Action, taskId?: string): Promise<void> {
  await request('action', { action, taskId }).catch(() => undefined);
}

/** An edit waiting for its check counts as checking: the verdict shown would otherwise be the previous draft's. */
const busy = () => validating !== 0 || timer !== undefined || !validation;

async function onGenerate(): Promise<void> {
  if (!draft || generating || busy() || !validation?.canGenerate) return;
  generating = true;
  form?.general('');
  form?.update();
  try {
    const { tasks: started } = await request('generate', { draft });
    for (const t of started) gallery.upsert(t);
    if (compare?.open) showGallery();
    gallery.root.firstElementChild?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    save();
  } catch (error) {
    if (error instanceof RequestError) {
      if (error.reply.issues?.length && validation) validation = { ...validation, issues: error.reply.issues, canGenerate: false };
      form?.general(error.reply.error, error.reply.actions);
    } else form?.general(String(error));
  } finally {
    generating = false; // the user can start another at once
    form?.update();
  }
}

/** Ctrl+Enter (Cmd+Enter on a Mac) anywhere in the page: an edit still waiting for its check is checked first. */
async function shortcut(): Promise<void> {
  if (!draft || generating) return;
  if (timer) {
    clearTimeout(timer);
    timer = undefined;
    await validate();
  } else if (validating) {
    const mine = validating;
    while (validating === mine) await new Promise((r) => setTimeout(r, 50));
  }
  await onGenerate();
}

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
  e.preventDefault();
  void shortcut();
});

function openCompare(): void {
  const [a, b] = gallery.picked().map((id) => gallery.get(id));
  if (!a?.video || !b?.video) return;
  gallery.pauseAll();
  compare?.show([a, b]);
  resultsBody.hidden = true;
}

function showGallery(): void {
  compare?.close();
  resultsBody.hidden = false;
}

function build(): void {
  const ctx: FormContext = {
    init: init!,
    draft: () => draft,
    validation: () => validation,
    changed,
    replace(next) {
      draft = next;
      form?.sync();
      changed(true);
    },
    act: (a) => void act(a),
  };
  form = buildForm(ctx, { busy, generating: () => generating, generate: () => void onGenerate() });
  compare ??= new CompareView(() => showGallery());
  compareButton.textContent = L('compare');
  compareButton.title = L('compareHint');
  compareButton.setAttribute('secondary', '');
  compareButton.toggleAttribute('disabled', gallery.picked().length !== 2);
  gallery.empty.textContent = L('galleryEmpty');
  resultsBody.replaceChildren(
    el('div', { className: 'results-head' }, [el('h2', { textContent: L('tasks') }), compareButton]),
    gallery.empty,
    gallery.root,
  );
  app.className = 'studio';
  app.replaceChildren(form.root, el('section', { className: 'results', id: 'results' }, [compare.root, resultsBody]));
  dropTarget(ctx, form.root);
  app.setAttribute('aria-busy', 'false');
}

listen((message) => {
  switch (message.type) {
    case 'init': {
      greeted = true;
      init = message;
      setLabels(message.labels, message.locale);
      draft = structuredClone(message.draft);
      // The host's draft is the page's last setState (the serializer hands it back after a reload).
      for (const t of message.tasks) gallery.upsert(t);
      build();
      const kept = vscode.getState() as Partial<PageState> | undefined;
      if (Array.isArray(kept?.picked)) gallery.pick(kept.picked.filter((id): id is string => typeof id === 'string'));
      form!.sync();
      changed(true);
      return;
    }
    case 'prefill':
      draft = structuredClone(message.draft);
      form?.sync();
      changed(true);
      return;
    case 'task':
      gallery.upsert(message.task);
      save();
      return;
    case 'recheck':
      void validate();
      return;
  }
});

// Say ready until the host answers: a message to a webview that is being shown again can be lost.
let greeted = false;
sayReady(() => greeted);
