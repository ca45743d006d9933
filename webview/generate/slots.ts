// The form's inputs, compact: one row per slot (a thumbnail, the workspace-relative path, what was probed, the
// ways to choose a file), the batch list, and dropping files from the Explorer.
import type { Mode, Probe, Slot } from '../../src/protocol/generate';
import { previewOf } from '../../src/protocol/preview';
import { onFileDrop } from '../common/drop';
import type { FormContext } from './context';
import { issuesFor } from './context';
import { button, el, showIssues } from './dom';
import { describeProbe } from './format';
import { L, locale } from './l10n';
import { request } from './rpc';
import { withMedia } from '../common/media';

/** The path as shown: the host's workspace-relative form once probed, the file's name until then. */
function shown(value: string, probe: Probe | undefined): string {
  if (probe && probe.source === value && probe.display) return probe.display;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : (value.split(/[\\/]/).pop() ?? value);
}

export function slotBlock(ctx: FormContext, slot: Slot) {
  const wrap = el('section', { className: 'slot', id: `slot-${slot}`, title: L('dropHint') });
  const title = el('vscode-label', {});
  const pick = async (via: 'workspace' | 'dialog' | 'url') => {
    const { values } = await request('pick', { slot, via });
    const draft = ctx.draft();
    if (values[0] && draft) {
      draft[slot] = values[0];
      ctx.changed(true);
    }
  };
  const clear = button(L('clear'), () => {
    const draft = ctx.draft();
    if (!draft) return;
    draft[slot] = undefined;
    ctx.changed(true);
  }, true);
  const controls = el('div', { className: 'controls' }, [
    button(L('fromWorkspace'), () => void pick('workspace'), true),
    button(L('browse'), () => void pick('dialog'), true),
    button(L('url'), () => void pick('url'), true),
    clear,
  ]);
  const source = el('span', { className: 'source' });
  const thumb = el('div', { className: 'preview' });
  const probe = el('div', { className: 'probe' });
  const hint = el('span', { className: 'hint', textContent: L('dropHint') });
  const issues = el('div', { className: 'issues' });
  const main = el('div', { className: 'slot-main' }, [el('div', { className: 'slot-head' }, [title, source, hint]), probe, controls, issues]);
  wrap.append(thumb, main);
  dropTarget(ctx, wrap, slot);
  let previewKey = '';
  return {
    wrap,
    update(mode: Mode) {
      const { init } = ctx;
      wrap.hidden = !init.modeSlots[mode].includes(slot);
      const optional = init.optionalSlots[mode].includes(slot);
      title.textContent = optional ? `${L(`slot_${slot}`)} (${L('optional')})` : L(`slot_${slot}`);
      wrap.classList.toggle('optional', optional);
      const value = ctx.draft()?.[slot] ?? '';
      const p = ctx.validation()?.probes[slot];
      const current = p && p.source === value ? p : undefined;
      source.textContent = value ? shown(value, current) : '';
      source.title = value;
      clear.hidden = !value;
      hint.hidden = !!value;
      wrap.classList.toggle('empty', !value);
      const thumbnail = previewOf(p, value);
      if ((thumbnail ?? '') !== previewKey) {
        previewKey = thumbnail ?? '';
        thumb.replaceChildren(...(current && thumbnail ? [media(current.kind, thumbnail)] : []));
        wrap.classList.toggle('audio', current?.kind === 'audio');
      }
      thumb.hidden = !thumbnail;
      probe.textContent = current ? describeProbe(current, locale(), L('urlProbe')) : '';
      showIssues(issues, issuesFor(ctx, slot), (a) => ctx.act(a), L);
    },
  };
}

function media(kind: Probe['kind'], src: string): HTMLElement {
  if (kind === 'image') return withMedia(el('img', { alt: '' }), src);
  const m = withMedia(el(kind, { controls: true, preload: 'metadata' }), src);
  if (kind === 'video') (m as HTMLVideoElement).muted = true;
  return m;
}

/** More first frames, one task each (animate only). */
export function batchBlock(ctx: FormContext) {
  const wrap = el('section', { className: 'slot batch empty' });
  const list = el('ul', {});
  const issues = el('div', { className: 'issues' });
  const add = ({ values }: { values: string[] }) => {
    const draft = ctx.draft();
    if (!draft || !values.length) return;
    draft.batch.push(...values);
    ctx.changed(true);
  };
  wrap.append(
    el('div', { className: 'slot-main' }, [
      el('vscode-label', { textContent: L('batch') }),
      el('div', { className: 'controls' }, [
        button(L('addImages'), () => void request('pick', { slot: 'batch', via: 'workspace' }).then(add), true),
        button(L('browse'), () => void request('pick', { slot: 'batch', via: 'dialog' }).then(add), true),
      ]),
      list,
      issues,
    ]),
  );
  return {
    wrap,
    update() {
      const draft = ctx.draft();
      if (!draft) return;
      wrap.hidden = draft.mode !== 'animate';
      wrap.classList.toggle('empty', draft.batch.length === 0);
      list.replaceChildren(
        ...draft.batch.map((b, i) => {
          const p = ctx.validation()?.batchProbes.find((x) => x.source === b);
          const remove = button(L('remove'), () => {
            draft.batch.splice(i, 1);
            ctx.changed(true);
          }, true);
          return el('li', { title: b }, [
            ...(p?.preview ? [withMedia(el('img', { alt: '' }), p.preview)] : []),
            el('span', { textContent: `${shown(b, p)}${p ? ` — ${describeProbe(p, locale(), L('urlProbe'))}` : ''}` }),
            remove,
          ]);
        }),
      );
      showIssues(issues, issuesFor(ctx, 'batch'), (a) => ctx.act(a), L);
    },
  };
}

/** Files dragged from the Explorer, into one slot or (with none) wherever the host puts them. */
export function dropTarget(ctx: FormContext, target: HTMLElement, slot?: Slot): void {
  onFileDrop(target, (uris) => {
    const draft = ctx.draft();
    if (!draft) return;
    void request('drop', { slot, uris: uris.slice(0, 50), draft }).then(({ draft: next }) => ctx.replace(next));
  });
}
