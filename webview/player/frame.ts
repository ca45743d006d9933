// "Use This Frame": the frame under the playhead (or at `at` seconds), drawn on a canvas at the video's own
// size and encoded as PNG, for the host to validate and write.
import type { CapturedFrame } from '../../src/protocol/player';

function seek(video: HTMLVideoElement, at: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('seeking timed out')), 10_000);
    video.addEventListener(
      'seeked',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
    video.currentTime = at;
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export async function captureFrame(video: HTMLVideoElement, at?: number): Promise<CapturedFrame> {
  if (video.readyState < HTMLMediaElement.HAVE_METADATA) {
    await new Promise<void>((resolve) => video.addEventListener('loadeddata', () => resolve(), { once: true }));
  }
  if (at !== undefined) await seek(video, Math.min(at, Math.max(0, video.duration - 0.05)));
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    await new Promise<void>((resolve) => video.addEventListener('loadeddata', () => resolve(), { once: true }));
  }
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (!width || !height) throw new Error('the video has no picture yet');
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  if (!g) throw new Error('no 2D canvas');
  g.drawImage(video, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the frame could not be encoded as PNG');
  return { time: video.currentTime, width, height, pngBase64: toBase64(new Uint8Array(await blob.arrayBuffer())) };
}
