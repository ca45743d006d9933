// The studio's second pane: the tasks this panel started, newest first, as a grid of cards. A card shows the
// video's first frame (the paused `<video>` itself: no thumbnail file is made), the state and the times; hovering plays it muted, a click plays it with sound. Ticking two enables the side-by-side comparison.
import type { Action, TaskView } from '../../src/protocol/generate';
import { button, el } from './dom';
import { formatElapsed } from './format';
import { L, locale } from './l10n';
import { withMedia } from '../common/media';

const ACTIVE = new Set<TaskView['state']>(['queued', 'creating', 'pending', 'running']);

interface Card {
  card: HTMLElement;
  thumb: HTMLElement;
  status: HTMLElement;
  details: HTMLElement;
  body: HTMLElement;
  pick: HTMLElement & { checked: boolean };
  rendered: string;
}

export interface GalleryHooks {
  act(taskId: string, action: Action): void;
  open(taskId: string, how: 'player' | 'reveal'): void;
  /** The ticked tasks changed (at most two, oldest first). */
  picked(ids: string[]): void;
}

export class Gallery {
  readonly root = el('div', { className: 'gallery tasks', id: 'tasks' });
  readonly empty = el('p', { className: 'gallery-empty hint' });
  private readonly views = new Map<string, TaskView>();
  private readonly cards = new Map<string, Card>();
  private picks: string[] = [];

  constructor(private readonly hooks: GalleryHooks) {
    setInterval(() => this.tick(), 1000);
  }

  ids(): string[] {
    return [...this.views.keys()];
  }

  get(id: string): TaskView | undefined {
    return this.views.get(id);
  }

  picked(): string[] {
    return [...this.picks];
  }

  /** Ticks these (a reload restores the page's choice); ids without a playable video are left out. */
  pick(ids: readonly string[]): void {
    this.picks = ids.filter((id) => !!this.views.get(id)?.video).slice(-2);
    for (const [id, c] of this.cards) c.pick.checked = this.picks.includes(id);
    this.hooks.picked(this.picked());
  }

  /** Stops every card's video (the comparison is about to play). */
  pauseAll(): void {
    for (const c of this.cards.values()) this.stop(c);
  }

  upsert(task: TaskView): void {
    this.views.set(task.id, task);
    let entry = this.cards.get(task.id);
    if (!entry) {
      entry = this.create(task);
      this.root.prepend(entry.card);
      this.cards.set(task.id, entry);
    }
    entry.card.dataset.state = task.state;
    entry.card.title = task.fileLabel ?? task.label;
    this.renderStatus(task);
    // The thumbnail and the body are rebuilt only when they change, so a playing video isn't reset. Until there
    // is a video the placeholder names the state, so every state change redraws it (it said Queued while running).
    const key = JSON.stringify([task.video, task.error, task.video ? task.state === 'succeeded' : task.state]);
    if (key !== entry.rendered) {
      entry.rendered = key;
      entry.thumb.replaceChildren(this.thumbnail(task, entry));
      entry.body.replaceChildren(...this.body(task));
      entry.pick.hidden = !task.video;
    }
    this.empty.hidden = this.views.size > 0;
  }

  private create(task: TaskView): Card {
    const card = el('article', { className: 'task card' });
    card.dataset.id = task.id;
    const thumb = el('div', { className: 'thumb' });
    const status = el('div', { className: 'status' });
    const details = el('div', { className: 'details' });
    const body = el('div', { className: 'body' });
    const pick = el('vscode-checkbox', { label: L('pick'), className: 'pick' }) as HTMLElement & { checked: boolean };
    pick.addEventListener('change', () => {
      this.picks = this.picks.filter((id) => id !== task.id);
      if (pick.checked) this.picks.push(task.id);
      // Two at most: ticking a third lets go of the oldest.
      while (this.picks.length > 2) {
        const dropped = this.picks.shift()!;
        const c = this.cards.get(dropped);
        if (c) c.pick.checked = false;
      }
      this.hooks.picked(this.picked());
    });
    card.append(thumb, el('div', { className: 'meta' }, [el('div', { className: 'label', textContent: task.label }), status, details, pick, body]));
    return { card, thumb, status, details, body, pick, rendered: '' };
  }

  private thumbnail(task: TaskView, entry: Card): HTMLElement {
    delete entry.card.dataset.poster;
    if (!task.video) return el('div', { className: 'placeholder', textContent: L(`state_${task.state}`) });
    // The paused video shows its first frame: that is the poster, no thumbnail file is made. Its bytes come
    // through the message channel (common/media.ts), never as a webview resource load left open.
    const video = withMedia(el('video', { preload: 'auto', loop: true, playsInline: true, tabIndex: 0 }), task.video);
    video.muted = true;
    video.setAttribute('aria-label', `${task.label}: ${L('playWithSound')}`);
    video.title = L('playWithSound');
    video.addEventListener('loadeddata', () => {
      entry.card.dataset.poster = `${video.videoWidth}x${video.videoHeight}`;
    });
    video.addEventListener('mouseenter', () => {
      if (entry.card.classList.contains('sound')) return;
      video.muted = true;
      void video.play().catch(() => undefined);
    });
    video.addEventListener('mouseleave', () => {
      if (!entry.card.classList.contains('sound')) this.stop(entry);
    });
    const toggle = () => {
      if (entry.card.classList.contains('sound')) {
        this.stop(entry);
        return;
      }
      for (const other of this.cards.values()) if (other !== entry) this.stop(other);
      entry.card.classList.add('sound');
      video.muted = false;
      void video.play().catch(() => undefined);
    };
    video.addEventListener('click', toggle);
    video.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      toggle();
    });
    return video;
  }

  /** Stops a card's video back at its first frame (the poster). */
  private stop(entry: Card): void {
    entry.card.classList.remove('sound');
    const video = entry.thumb.querySelector('video');
    if (!video) return;
    video.pause();
    video.muted = true;
    if (video.currentTime > 0) video.currentTime = 0;
  }

  private body(task: TaskView): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (task.video) {
      out.push(
        el('div', { className: 'controls' }, [
          button(L('open'), () => this.hooks.open(task.id, 'player'), true),
          button(L('reveal'), () => this.hooks.open(task.id, 'reveal'), true),
        ]),
      );
    }
    if (task.error) {
      out.push(
        el('div', { className: 'issue error', role: 'alert' }, [
          el('span', { textContent: [task.error.message, task.error.hint].filter(Boolean).join(' ') }),
          ...task.error.actions.map((a) => button(L(`action_${a}`), () => this.hooks.act(task.id, a), true)),
        ]),
      );
    }
    return out;
  }

  private renderStatus(task: TaskView): void {
    const entry = this.cards.get(task.id);
    if (!entry) return;
    const parts = [L(`state_${task.state}`)];
    if (task.state === 'succeeded' && task.save !== 'saved') parts.push(L('saving'));
    const end = ACTIVE.has(task.state) ? Date.now() : (task.endedAt ?? Date.now());
    parts.push(L('elapsed', formatElapsed(end - (task.startedAt ?? task.requestedAt))));
    parts.push(new Date(task.requestedAt).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' }));
    if (task.note) parts.push(task.note);
    entry.status.textContent = parts.join(' · ');
    const details: string[] = [];
    if (task.outputSize) details.push(`${task.outputSize.width} × ${task.outputSize.height}`);
    if (task.seed !== undefined) details.push(`seed ${task.seed.toLocaleString(locale())}`);
    if (task.fileLabel) details.push(task.fileLabel);
    entry.details.textContent = details.join(' · ');
  }

  private tick(): void {
    for (const t of this.views.values()) if (ACTIVE.has(t.state)) this.renderStatus(t);
  }
}
