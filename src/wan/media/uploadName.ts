// Names an uploaded object after what the file is, not what it is called: the service may go by the
// object's extension, and an MP3 named voice.wav must not arrive as a .wav.
import { basename, extname } from 'node:path';
import { probeAudio, type AudioFormat } from './audio';
import { probeImage, type ImageFormat } from './image';
import { probeVideo, type VideoFormat } from './video';

export type MediaFormat = AudioFormat | VideoFormat | ImageFormat;

/** Extensions that name each format; the first is the one given when a name is wrong. */
const EXTENSIONS: Record<MediaFormat, readonly string[]> = {
  wav: ['wav'],
  mp3: ['mp3'],
  mp4: ['mp4'],
  mov: ['mov'],
  jpeg: ['jpg', 'jpeg'],
  png: ['png'],
  bmp: ['bmp'],
  webp: ['webp'],
};

/**
 * The file's name made safe for a storage key, with the extension of `format` (the probed content)
 * when its own extension names something else; unchanged without a format.
 */
export function uploadFileName(path: string, format?: MediaFormat): string {
  const name = basename(path).replace(/[^A-Za-z0-9._-]/g, '_');
  if (!format) return name;
  const ext = extname(name);
  if (EXTENSIONS[format].includes(ext.slice(1).toLowerCase())) return name;
  return `${ext ? name.slice(0, -ext.length) : name}.${EXTENSIONS[format][0]}`;
}

/** The format of a local media file by its contents; undefined when it is none we know or is damaged. */
export async function probeMediaFormat(path: string): Promise<MediaFormat | undefined> {
  for (const probe of [probeVideo, probeAudio, probeImage]) {
    try {
      const info = await probe(path);
      if (info) return info.format;
    } catch {
      // Damaged as this kind: try the next; validation has the final word on such a file anyway.
    }
  }
  return undefined;
}
