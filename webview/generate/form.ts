// The studio's first pane: what to make, the inputs, the prompt, the settings and Generate, together, so a
// laptop screen shows them without scrolling. It checks nothing itself: every verdict comes from the host.
import type { Issue } from '../../src/protocol/generate';
import { issuesFor, type FormContext } from './context';
import { button, el, showIssues } from './dom';
import { codePoints } from './format';
import { L, locale } from './l10n';
import { request } from './rpc';
import { batchBlock, slotBlock } from './slots';

export interface FormState {
  /** An edit is waiting for (or in) its check: the verdict shown would be the previous draft's. */
  busy(): boolean;
  generating(): boolean;
  generate(): void;
}

/** The shortcut as this platform writes it. */
export const SHORTCUT = /Mac OS X|Macintosh|iPhone|iPad/.test(navigator.userAgent) ? '⌘Enter' : 'Ctrl+Enter';

export function buildForm(ctx: FormContext, state: FormState) {
  const modes = el('vscode-radio-group', {}) as HTMLElement;
  modes.setAttribute('aria-label', L('mode'));
  const radios = (['animate', 'morph', 'continue'] as const).map((m) => {
    const r = el('vscode-radio', { name: 'mode', value: m, textContent: L(`mode_${m}`) }) as HTMLElement & { checked: boolean; value: string };
    r.addEventListener('change', () => {
      const draft = ctx.draft();
      if (r.checked && draft && draft.mode !== m) {
        draft.mode = m; // the other inputs stay in the draft for switching back; only this mode's are sent
        ctx.changed(true);
      }
    });
    return r;
  });
  modes.append(...radios);

  const slots = (['firstFrame', 'firstClip', 'lastFrame', 'drivingAudio'] as const).map((s) => slotBlock(ctx, s));
  const batch = batchBlock(ctx);
  const prompt = textArea(ctx, 'prompt', 4);
  const negative = textArea(ctx, 'negativePrompt', 1);

  const resolution = el('vscode-single-select', {}) as HTMLElement & { value: string };
  resolution.id = 'resolution';
  resolution.append(el('vscode-option', { value: '720P', textContent: '720P' }), el('vscode-option', { value: '1080P', textContent: '1080P' }));
  resolution.addEventListener('change', () => {
    const draft = ctx.draft();
    if (draft && (resolution.value === '720P' || resolution.value === '1080P')) {
      draft.resolution = resolution.value;
      ctx.changed(true);
    }
  });
  const resolutionIssues = el('div', { className: 'issues' });

  const duration = el('vscode-textfield', { type: 'number' }) as HTMLElement & { value: string };
  duration.id = 'duration';
  duration.addEventListener('input', () => {
    const draft = ctx.draft();
    if (!draft) return;
    const n = Number(duration.value);
    // Empty or garbage becomes 0, which the host's check refuses with the rule's own words.
    draft.duration = duration.value.trim() !== '' && Number.isFinite(n) ? n : 0;
    ctx.changed();
  });
  const durationLabel = el('vscode-label', {});
  const durationIssues = el('div', { className: 'issues' });

  const seed = el('vscode-textfield', { placeholder: L('seedPlaceholder') }) as HTMLElement & { value: string };
  seed.id = 'seed';
  seed.addEventListener('input', () => {
    const draft = ctx.draft();
    if (!draft) return;
    draft.seed = seed.value;
    ctx.changed();
  });
  const useSeed = (which: 'random' | 'last') =>
    void request('seed', { which }).then(({ seed: s }) => {
      const draft = ctx.draft();
      if (s === undefined || !draft) return;
      draft.seed = s;
      seed.value = s;
      ctx.changed(true);
    });
  const seedIssues = el('div', { className: 'issues' });

  const promptExtend = checkbox(ctx, 'promptExtend');
  const watermark = checkbox(ctx, 'watermark');

  const mediaIssues = el('div', { className: 'issues' });
  const general = el('div', { className: 'issues general' });
  const generate = button(L('generate'), () => state.generate(), false);
  generate.id = 'generate';
  generate.title = L('shortcut', SHORTCUT);
  generate.setAttribute('aria-keyshortcuts', SHORTCUT === '⌘Enter' ? 'Meta+Enter' : 'Control+Enter');
  const summary = el('span', { className: 'summary', id: 'summary' });
  // One line kept free for what the host may add about spending (a cap, a refusal).
  const status = el('div', { className: 'status-line', id: 'status-line', role: 'status' });

  const root = el('section', { className: 'compose', id: 'compose' }, [
    el('div', { className: 'fields' }, [
      modes,
      ...slots.map((s) => s.wrap),
      batch.wrap,
      prompt.wrap,
      negative.wrap,
      el('div', { className: 'row' }, [
        el('div', { className: 'field' }, [el('vscode-label', { textContent: L('resolution') }), resolution, resolutionIssues]),
        el('div', { className: 'field' }, [durationLabel, duration, durationIssues]),
        el('div', { className: 'field seed' }, [
          el('vscode-label', { textContent: L('seed') }),
          el('div', { className: 'controls' }, [seed, button(L('dice'), () => useSeed('random'), true), button(L('lastSeed'), () => useSeed('last'), true)]),
          seedIssues,
        ]),
      ]),
      el('div', { className: 'checks' }, [promptExtend, watermark]),
      mediaIssues,
    ]),
    el('div', { className: 'actions-bar' }, [el('div', { className: 'actions' }, [generate, summary]), status, general]),
  ]);

  return {
    root,
    general(message: string, actions?: Issue['actions']) {
      showIssues(general, message ? [{ field: 'request', message, severity: 'error', actions }] : [], (a) => ctx.act(a), L);
    },
    /** Puts the draft's values into the controls (after init, a prefill or a drop). */
    sync() {
      const draft = ctx.draft();
      if (!draft) return;
      for (const r of radios) r.checked = r.value === draft.mode;
      prompt.area.value = draft.prompt;
      negative.area.value = draft.negativePrompt;
      resolution.value = draft.resolution;
      duration.value = String(draft.duration);
      seed.value = draft.seed;
      promptExtend.checked = draft.promptExtend;
      watermark.checked = draft.watermark;
    },
    update() {
      const draft = ctx.draft();
      if (!draft) return;
      const validation = ctx.validation();
      for (const s of slots) s.update(draft.mode);
      batch.update();
      prompt.update();
      negative.update();
      durationLabel.textContent = draft.mode === 'continue' ? L('durationClip') : L('duration');
      const act = (a: NonNullable<Issue['actions']>[number]) => ctx.act(a);
      showIssues(durationIssues, issuesFor(ctx, 'duration'), act, L);
      showIssues(seedIssues, issuesFor(ctx, 'seed'), act, L);
      showIssues(resolutionIssues, issuesFor(ctx, 'resolution'), act, L);
      showIssues(mediaIssues, [...issuesFor(ctx, 'media'), ...issuesFor(ctx, 'request')], act, L);
      const busy = state.busy();
      const count = validation?.taskCount ?? 1;
      generate.textContent = count > 1 ? L('generateMany', count) : L('generate');
      const disabled = busy || state.generating() || !validation?.canGenerate;
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

function textArea(ctx: FormContext, field: 'prompt' | 'negativePrompt', rows: number) {
  const area = el('vscode-textarea', { rows, resize: 'vertical' }) as HTMLElement & { value: string };
  area.id = field;
  const count = el('span', { className: 'count' });
  const issues = el('div', { className: 'issues' });
  const max = field === 'prompt' ? ctx.init.promptMax : ctx.init.negativePromptMax;
  area.addEventListener('input', () => {
    const draft = ctx.draft();
    if (!draft) return;
    draft[field] = area.value;
    ctx.changed();
  });
  const wrap = el('div', { className: `field ${field}` }, [el('div', { className: 'label-row' }, [el('vscode-label', { textContent: L(field) }), count]), area, issues]);
  return {
    wrap,
    area,
    update() {
      const n = codePoints(ctx.draft()?.[field] ?? '');
      const found = issuesFor(ctx, field);
      count.textContent = `${n.toLocaleString(locale())} / ${max.toLocaleString(locale())}`;
      showIssues(issues, found, (a) => ctx.act(a), L);
      count.classList.toggle('over', found.length > 0);
    },
  };
}

function checkbox(ctx: FormContext, field: 'promptExtend' | 'watermark') {
  const box = el('vscode-checkbox', { label: L(field) }) as HTMLElement & { checked: boolean };
  box.id = field;
  box.addEventListener('change', () => {
    const draft = ctx.draft();
    if (!draft) return;
    draft[field] = box.checked;
    ctx.changed(true);
  });
  return box;
}
