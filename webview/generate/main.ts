// The generation page: the form, the inputs' previews, the host's verdict beside each field, and the
// tasks it started. It checks nothing itself: every rule comes from the host's `validate` replies.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import { previewOf, type Draft, type Field, type InitMessage, type Issue, type Labels, type Mode, type Slot, type Validation } from '../../src/protocol/generate';
import { codePoints, describeProbe } from './format';
import { RequestError, listen, notify, request, sayReady, vscode } from './rpc';
import { TaskList } from './tasks';
import { el, button, showIssues } from './dom';
import './generate.css';


interface PageState {
  draft: Draft;
  taskIds: string[];
}

let labels: Labels = {};
let locale = 'en';
let init: InitMessage | undefined;
let draft: Draft | undefined;
let validation: Validation | undefined;
let validating = 0;
let generating = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let refs: ReturnType<typeof build> | undefined;
const tasks = new TaskList((id, action) => void act(action, id), (id, how) => void request('open', { taskId: id, how }));

const app = document.getElementById('app')!;
const L = (key: string, ...args: (string | number)[]) =>
  (labels[key] ?? key).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));

function save(): void {
  if (!draft) return;
  const state: PageState = { draft, taskIds: tasks.ids() };
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
  refs?.update();
}

async function validate(): Promise<void> {
  if (!draft) return;
  const mine = ++validating;
  refs?.update();
  try {
    const result = await request('validate', { draft });
    if (mine !== validating) return; // a newer draft is being checked
    validation = result;
  } catch (error) {
    if (mine !== validating) return;
    validation = undefined;
    refs?.general(error instanceof RequestError ? error.reply.error : String(error), error instanceof RequestError ? error.reply.actions : undefined);
  } finally {
    if (mine === validating) validating = 0;
    refs?.update();
  }
}

async function act(action: NonNullable<Issue['actions']>[number], taskId?: string): Promise<void> {
  await request('action', { action, taskId }).catch(() => undefined);
}

function slotBlock(slot: Slot) {
  const wrap = el('section', { className: 'slot', id: `slot-${slot}` });
  const title = el('vscode-label', {});
  const controls = el('div', { className: 'controls' });
  const pick = async (via: 'workspace' | 'dialog' | 'url') => {
    const { values } = await request('pick', { slot, via });
    if (values[0] && draft) {
      draft[slot] = values[0];
      changed(true);
    }
  };
  const clear = button(L('clear'), () => {
    if (!draft) return;
    draft[slot] = undefined;
    changed(true);
  }, true);
  controls.append(
    button(L('fromWorkspace'), () => void pick('workspace'), true),
    button(L('browse'), () => void pick('dialog'), true),
    button(L('url'), () => void pick('url'), true),
    clear,
  );
  const source = el('div', { className: 'source' });
  const preview = el('div', { className: 'preview' });
  const probe = el('div', { className: 'probe' });
  const issues = el('div', { className: 'issues' });
  const hint = el('div', { className: 'hint', textContent: L('dropHint') });
  wrap.append(title, controls, hint, source, preview, probe, issues);
  dropTarget(wrap, slot);
  let shown = '';
  return {
    wrap,
    update(mode: Mode) {
      wrap.hidden = !init!.modeSlots[mode].includes(slot);
      title.textContent = init!.optionalSlots[mode].includes(slot) ? `${L(`slot_${slot}`)} (${L('optional')})` : L(`slot_${slot}`);
      const value = draft?.[slot] ?? '';
      source.textContent = value;
      clear.hidden = !value;
      const p = validation?.probes[slot];
      const thumbnail = previewOf(p, value);
      if ((thumbnail ?? '') !== shown) {
        shown = thumbnail ?? '';
        preview.replaceChildren(...(p && thumbnail ? [media(p.kind, thumbnail)] : []));
      }
      probe.textContent = p && p.source === value ? describeProbe(p, locale, L('urlProbe')) : '';
      showIssues(issues, issuesFor(slot), (a) => void act(a), L);
    },
  };
}

function media(kind: 'image' | 'audio' | 'video', src: string): HTMLElement {
  if (kind === 'image') return el('img', { src, alt: '' });
  const m = el(kind, { src, controls: true, preload: 'metadata' });
  if (kind === 'video') (m as HTMLVideoElement).muted = true;
  return m;
}

function issuesFor(field: Field): Issue[] {
  return validation?.issues.filter((i) => i.field === field) ?? [];
}

/** Files dragged from the Explorer arrive as a uri-list (VS Code wants Shift held over a webview). */
function dropTarget(target: HTMLElement, slot?: Slot): void {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    target.classList.add('dragging');
  });
  target.addEventListener('dragleave', () => target.classList.remove('dragging'));
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    target.classList.remove('dragging');
    const data = e.dataTransfer?.getData('application/vnd.code.uri-list') || e.dataTransfer?.getData('text/uri-list') || '';
    const uris = data.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
    if (!uris.length || !draft) return;
    void request('drop', { slot, uris: uris.slice(0, 50), draft }).then(({ draft: next }) => {
      draft = next;
      refs?.sync();
      changed(true);
    });
  });
}

function build() {
  const title = el('h1', { textContent: L('title') });
  const modes = el('vscode-radio-group', {}) as HTMLElement;
  modes.setAttribute('aria-label', L('mode'));
  const radios = (['animate', 'morph', 'continue'] as const).map((m) => {
    const r = el('vscode-radio', { name: 'mode', value: m, textContent: L(`mode_${m}`) }) as HTMLElement & { checked: boolean };
    r.addEventListener('change', () => {
      if (r.checked && draft && draft.mode !== m) {
        draft.mode = m; // the other inputs stay in the draft for switching back; only this mode's are sent
        changed(true);
      }
    });
    return r;
  });
  modes.append(...radios);

  const slots = (['firstFrame', 'firstClip', 'lastFrame', 'drivingAudio'] as const).map(slotBlock);

  // Batch: more first frames, one task each.
  const batch = el('section', { className: 'slot batch' });
  const batchList = el('ul', {});
  const batchIssues = el('div', { className: 'issues' });
  batch.append(
    el('vscode-label', { textContent: L('batch') }),
    el('div', { className: 'controls' }, [
      button(L('addImages'), () => void request('pick', { slot: 'batch', via: 'workspace' }).then(addBatch), true),
      button(L('browse'), () => void request('pick', { slot: 'batch', via: 'dialog' }).then(addBatch), true),
    ]),
    batchList,
    batchIssues,
  );
  function addBatch({ values }: { values: string[] }) {
    if (!draft || !values.length) return;
    draft.batch.push(...values);
    changed(true);
  }

  const prompt = textArea('prompt', 6);
  const negative = textArea('negativePrompt', 2);

  const resolution = el('vscode-single-select', {}) as HTMLElement & { value: string };
  resolution.append(el('vscode-option', { value: '720P', textContent: '720P' }), el('vscode-option', { value: '1080P', textContent: '1080P' }));
  resolution.addEventListener('change', () => {
    if (draft && (resolution.value === '720P' || resolution.value === '1080P')) {
      draft.resolution = resolution.value;
      changed(true);
    }
  });
  const resolutionIssues = el('div', { className: 'issues' });

  const duration = el('vscode-textfield', { type: 'number' }) as HTMLElement & { value: string };
  duration.id = 'duration';
  duration.addEventListener('input', () => {
    if (!draft) return;
    const n = Number(duration.value);
    // Empty or garbage becomes 0, which the host's check refuses with the rule's own words.
    draft.duration = duration.value.trim() !== '' && Number.isFinite(n) ? n : 0;
    changed();
  });
  const durationLabel = el('vscode-label', {});
  const durationIssues = el('div', { className: 'issues' });

  const seed = el('vscode-textfield', { placeholder: L('seedPlaceholder') }) as HTMLElement & { value: string };
  seed.id = 'seed';
  seed.addEventListener('input', () => {
    if (!draft) return;
    draft.seed = seed.value;
    changed();
  });
  const useSeed = (which: 'random' | 'last') =>
    void request('seed', { which }).then(({ seed: s }) => {
      if (s === undefined || !draft) return;
      draft.seed = s;
      seed.value = s;
      changed(true);
    });
  const seedIssues = el('div', { className: 'issues' });
  const dice = button(L('dice'), () => useSeed('random'), true);
  const lastSeed = button(L('lastSeed'), () => useSeed('last'), true);

  const promptExtend = checkbox('promptExtend');
  const watermark = checkbox('watermark');

  const mediaIssues = el('div', { className: 'issues' });
  const general = el('div', { className: 'issues general' });
  const generate = button(L('generate'), () => void onGenerate(), false);
  generate.id = 'generate';
  const summary = el('span', { className: 'summary', id: 'summary' });

  app.replaceChildren(
    title,
    modes,
    ...slots.map((s) => s.wrap),
    batch,
    prompt.wrap,
    negative.wrap,
    el('div', { className: 'row' }, [
      el('div', { className: 'field' }, [el('vscode-label', { textContent: L('resolution') }), resolution, resolutionIssues]),
      el('div', { className: 'field' }, [durationLabel, duration, durationIssues]),
      el('div', { className: 'field' }, [el('vscode-label', { textContent: L('seed') }), el('div', { className: 'controls' }, [seed, dice, lastSeed]), seedIssues]),
    ]),
    el('div', { className: 'checks' }, [promptExtend.box, watermark.box]),
    mediaIssues,
    el('div', { className: 'actions' }, [generate, summary]),
    general,
    el('h2', { textContent: L('tasks') }),
    tasks.root,
  );
  dropTarget(app);
  app.setAttribute('aria-busy', 'false');

  function textArea(field: 'prompt' | 'negativePrompt', rows: number) {
    const area = el('vscode-textarea', { rows, resize: 'vertical' }) as HTMLElement & { value: string };
    area.id = field;
    const count = el('span', { className: 'count' });
    const issues = el('div', { className: 'issues' });
    const max = field === 'prompt' ? init!.promptMax : init!.negativePromptMax;
    area.addEventListener('input', () => {
      if (!draft) return;
      draft[field] = area.value;
      changed();
    });
    const wrap = el('div', { className: 'field' }, [el('div', { className: 'label-row' }, [el('vscode-label', { textContent: L(field) }), count]), area, issues]);
    return {
      wrap,
      area,
      update() {
        const n = codePoints(draft?.[field] ?? '');
        count.textContent = `${n.toLocaleString(locale)} / ${max.toLocaleString(locale)}`;
        showIssues(issues, issuesFor(field), (a) => void act(a), L);
        count.classList.toggle('over', issuesFor(field).length > 0);
      },
    };
  }

  function checkbox(field: 'promptExtend' | 'watermark') {
    const box = el('vscode-checkbox', { label: L(field) }) as HTMLElement & { checked: boolean };
    box.id = field;
    box.addEventListener('change', () => {
      if (!draft) return;
      draft[field] = box.checked;
      changed(true);
    });
    return { box };
  }

  return {
    general(message: string, actions?: Issue['actions']) {
      showIssues(general, message ? [{ field: 'request', message, severity: 'error', actions }] : [], (a) => void act(a), L);
    },
    /** Puts the draft's values into the controls (after init, a prefill or a drop). */
    sync() {
      if (!draft) return;
      for (const r of radios) r.checked = (r as unknown as { value: string }).value === draft.mode;
      prompt.area.value = draft.prompt;
      negative.area.value = draft.negativePrompt;
      resolution.value = draft.resolution;
      duration.value = String(draft.duration);
      seed.value = draft.seed;
      promptExtend.box.checked = draft.promptExtend;
      watermark.box.checked = draft.watermark;
    },
    update() {
      if (!draft) return;
      for (const s of slots) s.update(draft.mode);
      batch.hidden = draft.mode !== 'animate';
      batchList.replaceChildren(
        ...draft.batch.map((b, i) => {
          const p = validation?.batchProbes.find((x) => x.source === b);
          const remove = button(L('remove'), () => {
            draft!.batch.splice(i, 1);
            changed(true);
          }, true);
          return el('li', {}, [
            ...(p?.preview ? [el('img', { src: p.preview, alt: '' })] : []),
            el('span', { textContent: `${b}${p ? ` — ${describeProbe(p, locale, L('urlProbe'))}` : ''}` }),
            remove,
          ]);
        }),
      );
      showIssues(batchIssues, issuesFor('batch'), (a) => void act(a), L);
      prompt.update();
      negative.update();
      durationLabel.textContent = draft.mode === 'continue' ? L('durationClip') : L('duration');
      showIssues(durationIssues, issuesFor('duration'), (a) => void act(a), L);
      showIssues(seedIssues, issuesFor('seed'), (a) => void act(a), L);
      showIssues(resolutionIssues, issuesFor('resolution'), (a) => void act(a), L);
      showIssues(mediaIssues, [...issuesFor('media'), ...issuesFor('request')], (a) => void act(a), L);
      // An edit waiting for its check counts as checking: the verdict, the size and the billed seconds shown
      // (and an enabled Generate) would otherwise be the previous draft's.
      const busy = validating !== 0 || timer !== undefined || !validation;
      const count = validation?.taskCount ?? 1;
      generate.textContent = count > 1 ? L('generateMany', count) : L('generate');
      const disabled = busy || generating || !validation?.canGenerate;
      generate.toggleAttribute('disabled', disabled);
      (generate as unknown as { disabled: boolean }).disabled = disabled;
      const parts: string[] = [];
      if (busy) parts.push(L('checking'));
      else {
        if (validation?.outputSize) parts.push(L('outputSize', `${validation.outputSize.width} × ${validation.outputSize.height}`));
        if (validation?.billedSeconds !== undefined) parts.push(L('billed', validation.billedSeconds));
      }
      summary.textContent = parts.join(' · ');
    },
  };
}

async function onGenerate(): Promise<void> {
  if (!draft || generating) return;
  generating = true;
  refs?.general('');
  refs?.update();
  try {
    const { tasks: started } = await request('generate', { draft });
    for (const t of started) tasks.upsert(t);
    tasks.root.firstElementChild?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    save();
  } catch (error) {
    if (error instanceof RequestError) {
      if (error.reply.issues?.length && validation) validation = { ...validation, issues: error.reply.issues, canGenerate: false };
      refs?.general(error.reply.error, error.reply.actions);
    } else refs?.general(String(error));
  } finally {
    generating = false; // the user can start another at once
    refs?.update();
  }
}

listen((message) => {
  switch (message.type) {
    case 'init': {
      greeted = true;
      init = message;
      labels = message.labels;
      locale = message.locale;
      tasks.configure(labels, locale);
      draft = structuredClone(message.draft);
      // The host's draft is the page's last setState (the serializer hands it back after a reload).
      for (const t of message.tasks) tasks.upsert(t);
      refs = build();
      refs.sync();
      changed(true);
      return;
    }
    case 'prefill':
      draft = structuredClone(message.draft);
      refs?.sync();
      changed(true);
      return;
    case 'task':
      tasks.upsert(message.task);
      save();
      return;
  }
});

// Say ready until the host answers: a message to a webview that is being shown again can be lost.
let greeted = false;
sayReady(() => greeted);
