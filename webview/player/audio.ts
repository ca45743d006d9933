// Does this webview decode the sound of a file? Desktop VS Code plays an MP4 with AAC audio silently, and
// its canPlayType may still claim AAC support, so the decoders' own counters (Chromium's
// webkitAudioDecodedByteCount / webkitVideoDecodedByteCount, the engine of every VS Code webview) are read
// during playback (or a short muted play of a detached copy): video bytes decoded and no audio bytes = silent.
import type { AudioReportMessage } from '../../src/protocol/player';

type Report = Pick<AudioReportMessage, 'canPlayAac' | 'result' | 'audioBytes' | 'videoBytes'>;

interface ChromiumCounters {
  webkitAudioDecodedByteCount?: number;
  webkitVideoDecodedByteCount?: number;
}

const PROBE_PLAY_MS = 800;
const PROBE_TIMEOUT_MS = 10_000;

export function canPlayAac(): Report['canPlayAac'] {
  const answer = document.createElement('video').canPlayType('audio/mp4; codecs="mp4a.40.2"');
  return answer === 'probably' || answer === 'maybe' ? answer : '';
}

function counters(v: HTMLVideoElement): { audio?: number; video?: number } {
  const c = v as HTMLVideoElement & ChromiumCounters;
  return { audio: c.webkitAudioDecodedByteCount, video: c.webkitVideoDecodedByteCount };
}

function verdict(v: HTMLVideoElement): Report {
  const { audio, video } = counters(v);
  const aac = canPlayAac();
  if (audio === undefined || video === undefined) return { canPlayAac: aac, result: 'unknown', audioBytes: 0, videoBytes: 0 };
  const result = audio > 0 ? 'decoded' : video > 0 ? 'silent' : 'unknown';
  return { canPlayAac: aac, result, audioBytes: audio, videoBytes: video };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plays `src` muted in a detached element for a moment and reads the decoders' counters. */
export async function checkAudio(src: string): Promise<Report> {
  const probe = document.createElement('video');
  probe.muted = true;
  probe.preload = 'auto';
  probe.playsInline = true;
  try {
    const ready = new Promise<void>((resolve, reject) => {
      probe.addEventListener('canplay', () => resolve(), { once: true });
      probe.addEventListener('error', () => reject(new Error(probe.error?.message || 'media error')), { once: true });
      setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS);
    });
    probe.src = src;
    await ready;
    await probe.play();
    const start = performance.now();
    while (performance.now() - start < PROBE_TIMEOUT_MS) {
      await sleep(100);
      const { audio, video } = counters(probe);
      if ((audio ?? 0) > 0) break; // decoded: no need to wait longer
      if (probe.currentTime * 1000 >= PROBE_PLAY_MS && (video ?? 0) > 0) break;
      if (probe.ended) break;
    }
    return verdict(probe);
  } catch {
    return { canPlayAac: canPlayAac(), result: 'unknown', audioBytes: 0, videoBytes: 0 };
  } finally {
    probe.pause();
    probe.removeAttribute('src');
    probe.load(); // releases the decoder
  }
}

/**
 * After 0.7 s of the user's own playback of each loaded file, reports the same verdict once. Muted playback
 * counts too: the decoders run whatever the volume.
 */
export function playbackAudioCheck(
  video: HTMLVideoElement,
  source: () => AudioReportMessage['source'] | undefined,
  report: (source: AudioReportMessage['source'], r: Report) => void,
): void {
  let reportedFor = '';
  let playedFrom: number | undefined;
  video.addEventListener('playing', () => (playedFrom = video.currentTime));
  video.addEventListener('seeked', () => (playedFrom = video.currentTime));
  video.addEventListener('timeupdate', () => {
    const src = video.currentSrc;
    const s = source();
    if (!s || !src || reportedFor === src || video.paused || playedFrom === undefined || video.currentTime - playedFrom < 0.7) return;
    reportedFor = src;
    report(s, verdict(video));
  });
}
