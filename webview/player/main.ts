// The player page. Receives `load`, `notice` and `checkAudio` from the host and answers its `captureFrame` requests;
// reports `ready`, `metadata`, `mediaError`, `audioReport`, `action`, `frame` and `frameError`. Every visible string comes from the host
// (localized there); this file only formats numbers.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { CaptureFrameRequest, HostToWebviewMessage, LoadMessage, NoticeMessage, PlayerAction, WebviewToHostMessage } from '../../src/protocol/player';
import { canPlayAac, checkAudio, playbackAudioCheck } from './audio';
import { mediaUrl, showMedia } from '../common/media';
import { captureFrame } from './frame';
import './player.css';
import { formatBytes } from '../common/format';
import { listen, sayReady, vscode } from '../common/rpc';

const post = (message: WebviewToHostMessage) => vscode.postMessage(message);
// The serializer reopens this video after a reload.
vscode.setState({ file: document.querySelector('main')?.dataset.file });

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
};
const title = $('title');
const video = $<HTMLVideoElement>('video');
const details = $('details');
const facts = $('facts');
const factsTitle = $('facts-title');
const status = $('status');
const notice = $('notice');
const noticeText = $('notice-text');
const noticeOpen = $('notice-open');

const buttons: [HTMLElement, keyof LoadMessage['labels'], () => void][] = [
  [$('use-frame'), 'useFrame', () => void sendFrame()],
  [$('continue'), 'continueVideo', () => action('continue')],
  [$('generate-again'), 'generateAgain', () => action('generateAgain')],
  [$('copy-prompt'), 'copyPrompt', () => action('copyPrompt')],
  [$('open-system'), 'openSystem', () => action('openSystem')],
  [$('reveal'), 'reveal', () => action('reveal')],
];

let current: LoadMessage | undefined;

const action = (name: PlayerAction) => post({ type: 'action', action: name });

function formatDuration(seconds: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 2 }).format(seconds);
}

function renderList(list: HTMLElement, rows: { label: string; value: string; long?: boolean }[]): void {
  list.replaceChildren(
    ...rows.flatMap(({ label, value, long }) => {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (long) dd.classList.add('long');
      return [dt, dd];
    }),
  );
}

function load(message: LoadMessage): void {
  const sameFile = current?.title === message.title;
  const resumeAt = sameFile ? video.currentTime : 0;
  const wasPlaying = sameFile && !video.paused && !video.ended;
  current = message;
  const { labels, locale } = message;
  document.title = message.title;
  title.textContent = message.title;
  for (const [el, key] of buttons) el.textContent = labels[key];
  $('copy-prompt').toggleAttribute('disabled', !message.enabled.copyPrompt);
  $('generate-again').toggleAttribute('disabled', !message.enabled.generateAgain);
  noticeOpen.textContent = labels.openSystem;
  status.textContent = labels.loading;
  status.classList.remove('error');
  renderList(details, [{ label: labels.size, value: formatBytes(message.bytes, locale) }]);
  factsTitle.textContent = labels.details;
  factsTitle.hidden = message.facts.length === 0;
  renderList(facts, message.facts);
  showMedia(video, message.src).catch((e: unknown) => showMediaError(e instanceof Error ? e.message : String(e)));
  // Switching to the sound copy keeps the playhead and the play state.
  if (resumeAt > 0 || wasPlaying) {
    video.addEventListener(
      'loadedmetadata',
      () => {
        video.currentTime = resumeAt;
        if (wasPlaying) void video.play().catch(() => undefined);
      },
      { once: true },
    );
  }
}

function showNotice(message: NoticeMessage): void {
  notice.hidden = message.text === '';
  notice.className = message.level;
  noticeText.textContent = message.text;
  noticeOpen.hidden = !message.openSystem;
}

/** "Use This Frame": the frame under the playhead. */
async function sendFrame(): Promise<void> {
  try {
    const frame = await captureFrame(video);
    post({ type: 'frame', ...frame });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (current) {
      status.textContent = current.labels.frameError.replace('{0}', message);
      status.classList.add('error');
    }
    post({ type: 'frameError', message });
  }
}

video.addEventListener('loadedmetadata', () => {
  if (!current) return;
  const { labels, locale, bytes } = current;
  const { videoWidth: width, videoHeight: height, duration } = video;
  status.textContent = '';
  renderList(details, [
    { label: labels.size, value: formatBytes(bytes, locale) },
    { label: labels.duration, value: Number.isFinite(duration) ? formatDuration(duration, locale) : '—' },
    { label: labels.dimensions, value: `${width} × ${height}` },
  ]);
  if (Number.isFinite(duration)) post({ type: 'metadata', width, height, duration });
});

function showMediaError(reason: string): void {
  if (!current) return;
  status.textContent = current.labels.mediaError.replace('{0}', reason);
  status.classList.add('error');
  post({ type: 'mediaError', message: reason });
}

video.addEventListener('error', () => {
  const err = video.error;
  showMediaError(err?.message || `MediaError ${err?.code ?? '?'}`);
});

// The user's own playback tells whether sound is decoded (once per loaded file). No hidden probe runs by
// default: a second media stream per page kept webview loads waiting when panels were switched quickly.
playbackAudioCheck(video, () => current?.source, (source, r) => post({ type: 'audioReport', source, via: 'playback', ...r }));

for (const [el, , run] of buttons) el.addEventListener('click', run);
noticeOpen.addEventListener('click', () => action('openSystem'));

listen<Exclude<HostToWebviewMessage, { type: 'request' }>>(
  (message) => {
    if (message.type === 'load') load(message);
    else if (message.type === 'notice') showNotice(message);
    else if (message.type === 'checkAudio' && current) {
      const { src, source } = current;
      void mediaUrl(src)
        .then(checkAudio, () => ({ canPlayAac: canPlayAac(), result: 'unknown' as const, audioBytes: 0, videoBytes: 0 }))
        .then((r) => post({ type: 'audioReport', source, via: 'probe', ...r }));
    }
  },
  { captureFrame: (params: CaptureFrameRequest['params']) => captureFrame(video, params.at) },
);

// Once: every ready makes the host read and load the video again (it reloads a page that stays silent).
sayReady({ type: 'ready', canPlayAac: canPlayAac() } satisfies WebviewToHostMessage, () => false, 0);
