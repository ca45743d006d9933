// The player page. Receives `load` from the host, reports `ready`, `metadata`, `mediaError` and `reveal`.
// Every visible string comes from the host (localized there); this file only formats numbers.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { HostToWebviewMessage, LoadMessage, WebviewToHostMessage } from '../../src/protocol/player';
import './player.css';

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (message: WebviewToHostMessage) => vscode.postMessage(message);

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};
const title = $('title');
const video = $<HTMLVideoElement>('video');
const details = $('details');
const status = $('status');
const reveal = $('reveal');

let current: LoadMessage | undefined;

function formatBytes(bytes: number, locale: string): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(value);
}

function formatDuration(seconds: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 2 }).format(seconds);
}

function renderDetails(rows: [string, string][]): void {
  details.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }),
  );
}

function load(message: LoadMessage): void {
  current = message;
  const { labels, locale } = message;
  document.title = message.title;
  title.textContent = message.title;
  reveal.textContent = labels.reveal;
  status.textContent = labels.loading;
  status.classList.remove('error');
  renderDetails([[labels.size, formatBytes(message.bytes, locale)]]);
  video.src = message.src;
  video.load();
}

video.addEventListener('loadedmetadata', () => {
  if (!current) return;
  const { labels, locale, bytes } = current;
  const { videoWidth: width, videoHeight: height, duration } = video;
  status.textContent = '';
  renderDetails([
    [labels.size, formatBytes(bytes, locale)],
    [labels.duration, Number.isFinite(duration) ? formatDuration(duration, locale) : '—'],
    [labels.dimensions, `${width} × ${height}`],
  ]);
  if (Number.isFinite(duration)) post({ type: 'metadata', width, height, duration });
});

video.addEventListener('error', () => {
  if (!current) return;
  const err = video.error;
  const reason = err?.message || `MediaError ${err?.code ?? '?'}`;
  status.textContent = current.labels.mediaError.replace('{0}', reason);
  status.classList.add('error');
  post({ type: 'mediaError', message: reason });
});

reveal.addEventListener('click', () => post({ type: 'reveal' }));

window.addEventListener('message', (event: MessageEvent<HostToWebviewMessage>) => {
  const message = event.data;
  if (message && typeof message === 'object' && message.type === 'load') load(message);
});

post({ type: 'ready' });
