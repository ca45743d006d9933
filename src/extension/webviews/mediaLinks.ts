// The host's side of media over the message channel (src/protocol/mediaRef.ts says why): it names the files a
// page may show and reads them a chunk at a time when asked. A page can read only what its host named, and a
// file changed since it was named gets a new name, so a page never plays an old copy from its cache.
import { open } from 'node:fs/promises';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { MEDIA_CHUNK_BYTES, MEDIA_REF_PREFIX, type MediaChunk } from '../../protocol/mediaRef';

const MIME: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.bmp': 'image/bmp',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.ogg': 'audio/ogg',
};

export function mimeOf(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export class MediaLinks {
  private readonly files = new Map<string, string>();
  private readonly refs = new Map<string, string>();
  private next = 1;

  /** The reference a page uses for `file` as it is now (its folder's and its own name are in it, for people and tests reading a page's DOM). */
  link(file: string): string {
    let version = '';
    try {
      const s = statSync(file);
      version = `${s.size}:${s.mtimeMs}`;
    } catch {
      // Named anyway: reading it says why it cannot be shown.
    }
    const key = `${file}\0${version}`;
    const known = this.refs.get(key);
    if (known) return known;
    const ref = `${MEDIA_REF_PREFIX}${this.next++}/${encodeURIComponent(path.basename(path.dirname(file)))}/${encodeURIComponent(path.basename(file))}`;
    this.refs.set(key, ref);
    this.files.set(ref, file);
    return ref;
  }

  /** The file behind a reference this host gave out. */
  fileOf(ref: string): string | undefined {
    return this.files.get(ref);
  }

  /** Up to `length` bytes of the file from `offset`; refuses a reference it never gave out. */
  async read(ref: string, offset: number, length: number): Promise<MediaChunk> {
    const file = this.files.get(ref);
    if (!file) throw new Error(`Nothing is shown under ${ref}.`);
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const want = Math.max(0, Math.min(length, MEDIA_CHUNK_BYTES, size - offset));
      // A buffer of its own: a pooled Buffer would send its whole pool across the channel.
      const bytes = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(bytes, got, want - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { size, mime: mimeOf(file), bytes: got === want ? bytes : bytes.subarray(0, got) };
    } finally {
      await handle.close();
    }
  }

  /** Forgets every name (the page that used them is gone). */
  clear(): void {
    this.files.clear();
    this.refs.clear();
  }
}

