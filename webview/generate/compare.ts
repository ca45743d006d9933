// Two takes side by side, played as one: one Play/Pause and one position for both, looping. The longer video
// leads; the other follows it (pulled back in step when they drift) and holds its last frame when it is shorter.
import type { TaskView } from '../../src/protocol/generate';
import { button, el } from './dom';
import { formatElapsed } from './format';
import { L } from './l10n';
import { withMedia } from '../common/media';

/** How far the follower may drift before it is put back in step, in seconds. */
const DRIFT = 0.12;

export class CompareView {
  readonly root = el('section', { className: 'compare', id: 'compare', hidden: true });
  private videos: HTMLVideoElement[] = [];
  private readonly playButton = button(L('play'), () => this.toggle(), false);
  private readonly seek = el('input', { type: 'range', min: '0', max: '0', step: '0.01', value: '0' });
  private readonly time = el('span', { className: 'time' });
  private readonly pair = el('div', { className: 'pair' });

  constructor(onBack: () => void) {
    this.playButton.id = 'compare-play';
    this.seek.id = 'compare-seek';
    this.seek.setAttribute('aria-label', L('position'));
    this.seek.addEventListener('input', () => this.seekTo(Number(this.seek.value)));
    const back = button(L('back'), () => onBack(), true);
    back.id = 'compare-back';
    this.root.append(
      el('div', { className: 'compare-head' }, [el('h2', { textContent: L('comparing') }), back]),
      this.pair,
      el('div', { className: 'compare-controls' }, [this.playButton, this.seek, this.time]),
    );
  }

  get open(): boolean {
    return !this.root.hidden;
  }

  show(takes: [TaskView, TaskView]): void {
    this.close();
    this.videos = takes.map((t, i) => {
      const video = withMedia(el('video', { preload: 'auto', playsInline: true }), t.video ?? '');
      video.muted = i !== 0; // one sound at a time: the left's, until the other side's box is ticked
      video.addEventListener('click', () => this.toggle());
      return video;
    });
    this.pair.replaceChildren(
      ...takes.map((t, i) => {
        const video = this.videos[i]!;
        const sound = el('vscode-checkbox', { label: L('sound') }) as HTMLElement & { checked: boolean };
        sound.checked = !video.muted;
        sound.addEventListener('change', () => {
          video.muted = !sound.checked;
          // The other side goes quiet: two soundtracks at once compare nothing.
          if (sound.checked) {
            this.videos.forEach((v, j) => {
              if (j !== i) v.muted = true;
            });
            for (const box of this.pair.querySelectorAll<HTMLElement & { checked: boolean }>('vscode-checkbox')) if (box !== sound) box.checked = false;
          }
        });
        const details = [t.outputSize && `${t.outputSize.width} × ${t.outputSize.height}`, t.seed !== undefined && `seed ${t.seed}`].filter(Boolean).join(' · ');
        return el('figure', { className: 'take', title: t.fileLabel ?? t.label }, [
          video,
          el('figcaption', {}, [el('div', { className: 'label', textContent: t.label }), el('div', { className: 'details', textContent: details }), sound]),
        ]);
      }),
    );
    for (const v of this.videos) {
      v.addEventListener('loadedmetadata', () => this.render());
      v.addEventListener('timeupdate', () => this.follow());
      v.addEventListener('ended', () => this.ended());
      v.addEventListener('play', () => this.render());
      v.addEventListener('pause', () => this.render());
    }
    this.root.hidden = false;
    this.render();
  }

  close(): void {
    for (const v of this.videos) {
      v.pause();
      v.removeAttribute('src');
      v.load(); // lets go of the file
    }
    this.videos = [];
    this.pair.replaceChildren();
    this.root.hidden = true;
  }

  /** The longer video sets the pace (its duration is the comparison's). */
  private leader(): HTMLVideoElement | undefined {
    return [...this.videos].sort((a, b) => (b.duration || 0) - (a.duration || 0))[0];
  }

  private playing(): boolean {
    const lead = this.leader();
    return !!lead && !lead.paused;
  }

  private toggle(): void {
    if (this.playing()) {
      for (const v of this.videos) v.pause();
      return;
    }
    const lead = this.leader();
    if (lead && lead.ended) this.seekTo(0);
    for (const v of this.videos) if (v.currentTime < (v.duration || Infinity)) void v.play().catch(() => undefined);
  }

  private seekTo(t: number): void {
    for (const v of this.videos) v.currentTime = Math.min(t, Math.max(0, (v.duration || t) - 0.01));
    this.render();
  }

  /** Keeps the follower on the leader's clock. */
  private follow(): void {
    const lead = this.leader();
    if (!lead) return;
    for (const v of this.videos) {
      if (v === lead || lead.currentTime >= v.duration) continue;
      if (Math.abs(v.currentTime - lead.currentTime) > DRIFT) v.currentTime = lead.currentTime;
      if (!lead.paused && v.paused) void v.play().catch(() => undefined);
    }
    this.render();
  }

  /** When the leader ends, both start again together (a comparison is watched over and over). */
  private ended(): void {
    const lead = this.leader();
    if (!lead?.ended) return;
    this.seekTo(0);
    for (const v of this.videos) void v.play().catch(() => undefined);
  }

  private render(): void {
    const lead = this.leader();
    const duration = lead && Number.isFinite(lead.duration) ? lead.duration : 0;
    const now = lead?.currentTime ?? 0;
    this.seek.max = String(duration);
    this.seek.value = String(now);
    this.time.textContent = `${formatElapsed(now * 1000)} / ${formatElapsed(duration * 1000)}`;
    this.playButton.textContent = this.playing() ? L('pause') : L('play');
  }
}
