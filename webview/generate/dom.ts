// Tiny DOM helpers for the page.
import type { Action, Issue } from '../../src/protocol/generate';

export function el<K extends string>(
  tag: K,
  props: Record<string, unknown>,
  children: (Node | string)[] = [],
): K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k in node && k !== 'rows' && k !== 'type' && k !== 'label' && k !== 'placeholder' && k !== 'resize' && k !== 'name' && k !== 'value') {
      (node as unknown as Record<string, unknown>)[k] = v;
    } else if (typeof v === 'boolean') node.toggleAttribute(k, v);
    else node.setAttribute(k, String(v));
  }
  node.append(...children);
  return node as never;
}

export function button(text: string, onClick: () => void, secondary: boolean): HTMLElement {
  const b = el('vscode-button', { textContent: text });
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

/** Shows a field's issues (errors and warnings) with their next-step buttons. */
export function showIssues(target: HTMLElement, issues: Issue[], act: (a: Action) => void, L: (key: string) => string): void {
  target.replaceChildren(
    ...issues.map((i) =>
      el('div', { className: `issue ${i.severity}`, role: i.severity === 'error' ? 'alert' : 'status' }, [
        el('span', { textContent: i.message }),
        ...(i.actions ?? []).map((a) => button(L(`action_${a}`), () => act(a), true)),
      ]),
    ),
  );
}
