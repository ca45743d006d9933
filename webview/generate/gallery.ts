// The tasks this panel started: state, elapsed time, errors with their next step, the result playing in place.
import type { Action, Labels, TaskView } from '../../src/protocol/generate';
import { button, el } from './dom';
import { formatElapsed } from './format';

const ACTIVE = new Set<TaskView['state']>(['queued', 'creating', 'pending', 'running']);

export class TaskList {
  readonly root = el('div', { className: 'tasks', id: 'tasks' });
  private readonly views = new Map<string, TaskView>();
  private readonly cards = new Map<string, { card: HTMLElement; status: HTMLElement; body: HTMLElement; rendered: string }>();
  private labels: Labels = {};
  private locale = 'en';

  constructor(
    private readonly act: (taskId: string, action: Action) => void,
    private readonly open: (taskId: string, how: 'player' | 'reveal') => void,
  ) {
    setInterval(() => this.tick(), 1000);
  }

  configure(labels: Labels, locale: string): void {
    this.labels = labels;
    this.locale = locale;
  }

  ids(): string[] {
    return [...this.views.keys()];
  }

  private L(key: string, ...args: (string | number)[]): string {
    return (this.labels[key] ?? key).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
  }

  upsert(task: TaskView): void {
    this.views.set(task.id, task);
    let entry = this.cards.get(task.id);
    if (!entry) {
      const card = el('article', { className: 'task' });
      card.dataset.id = task.id;
      const status = el('div', { className: 'status' });
      const body = el('div', { className: 'body' });
      card.append(el('div', { className: 'label', textContent: task.label }), status, body);
      this.root.prepend(card);
      entry = { card, status, body, rendered: '' };
      this.cards.set(task.id, entry);
    }
    entry.card.dataset.state = task.state;
    this.renderStatus(task);
    // The body (player, buttons) is rebuilt only when it changes, so a playing video isn't reset.
    const key = JSON.stringify([task.video, task.error, task.state === 'succeeded']);
    if (key !== entry.rendered) {
      entry.rendered = key;
      entry.body.replaceChildren(...this.body(task));
    }
  }

  private body(task: TaskView): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (task.video) {
      const video = el('video', { src: task.video, controls: true, autoplay: true, loop: true, preload: 'auto' });
      video.muted = true; // autoplay needs it; the controls unmute
      out.push(
        video,
        el('div', { className: 'controls' }, [
          button(this.L('open'), () => this.open(task.id, 'player'), true),
          button(this.L('reveal'), () => this.open(task.id, 'reveal'), true),
        ]),
      );
    }
    if (task.error) {
      out.push(
        el('div', { className: 'issue error', role: 'alert' }, [
          el('span', { textContent: [task.error.message, task.error.hint].filter(Boolean).join(' ') }),
          ...task.error.actions.map((a) => button(this.L(`action_${a}`), () => this.act(task.id, a), true)),
        ]),
      );
    }
    return out;
  }

  private renderStatus(task: TaskView): void {
    const entry = this.cards.get(task.id);
    if (!entry) return;
    const parts = [this.L(`state_${task.state}`)];
    if (task.state === 'succeeded' && task.save !== 'saved') parts.push(this.L('saving'));
    const end = ACTIVE.has(task.state) ? Date.now() : (task.endedAt ?? Date.now());
    parts.push(this.L('elapsed', formatElapsed(end - (task.startedAt ?? task.requestedAt))));
    if (task.outputSize) parts.push(`${task.outputSize.width} × ${task.outputSize.height}`);
    if (task.seed !== undefined) parts.push(`seed ${task.seed.toLocaleString(this.locale)}`);
    if (task.note) parts.push(task.note);
    entry.status.textContent = parts.join(' · ');
  }

  private tick(): void {
    for (const t of this.views.values()) if (ACTIVE.has(t.state)) this.renderStatus(t);
  }
}
