// Pure-TypeScript MP4/QuickTime probing: walks the top-level boxes by seeking (mdat is never read) to
// the end of the file, so a cut file is caught, then parses the moov box: mvhd duration, the video
// track's displayed size, the audio track's codec, and the sample tables' extent (which must lie inside the file).
import { parseMoov } from './moov';
import type { AudioTrackInfo } from './mp4Audio';
import { MediaProbeError, n, withSource, type ByteSource } from './source';

export type { AudioCodec, AudioTrackInfo } from './mp4Audio';

export type VideoFormat = 'mp4' | 'mov';

export interface VideoInfo {
  format: VideoFormat;
  durationSeconds: number;
  /** Displayed width (after the track matrix's 90/270 degree rotation, if any). 0 without a video track. */
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
  hasVideoTrack: boolean;
  /** The first audio track, when there is one (the player needs its codec: desktop VS Code cannot decode AAC). */
  audio?: AudioTrackInfo;
}

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'meta', 'moof', 'mfra', 'styp', 'sidx', 'ssix', 'pdin', 'prft', 'emsg', 'udta', 'junk']);
const IMAGE_BRANDS = /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1|avif|avis)$/;
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** All moof boxes together; a fragment header is a few hundred bytes per second of video. */
const MAX_MOOF_BYTES = 32 * 1024 * 1024;

/**
 * Probes an MP4 or MOV file. Returns null when the data is not an ISO BMFF/QuickTime movie;
 * throws MediaProbeError when it is one but is damaged, truncated or has no moov box.
 */
export async function probeVideo(input: string | Buffer): Promise<VideoInfo | null> {
  return withSource(input, (src) => probeVideoSource(src));
}

async function probeVideoSource(src: ByteSource): Promise<VideoInfo | null> {
  let pos = 0;
  let format: VideoFormat | undefined;
  let moov: Buffer | undefined;
  let hasMdat = false;
  const moofs: Buffer[] = [];
  let moofBytes = 0;
  const fail = (kind: 'damaged' | 'truncated', why: string) =>
    new MediaProbeError(`${kind} ${(format ?? 'mp4').toUpperCase()} file (${why})`);
  // Box sizes must chain exactly to the end of the file: a cut file leaves its last box short.
  for (let count = 0; pos < src.size; count++) {
    if (count > 1_000_000) throw fail('damaged', 'more than a million top-level boxes');
    const h = await src.read(pos, 16);
    const notABox = () => fail('damaged', `${n(src.size - pos)} bytes after the last box, from byte ${n(pos)}, are not a box`);
    if (h.length < 8) {
      if (count === 0) return null;
      throw notABox();
    }
    let size = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    let headerLen = 8;
    if (size === 1) {
      if (h.length < 16) throw count === 0 ? fail('truncated', 'the file ends inside the first box header') : notABox();
      size = Number(h.readBigUInt64BE(8));
      headerLen = 16;
    } else if (size === 0) {
      size = src.size - pos; // runs to the end of the file
    }
    if (count === 0) {
      if (type === 'ftyp') {
        const brands = await src.read(pos + 8, Math.min(Math.max(size - 8, 0), 64));
        const major = brands.toString('latin1', 0, 4);
        if (IMAGE_BRANDS.test(major)) return null;
        format = major === 'qt  ' ? 'mov' : 'mp4';
      } else if (TOP_LEVEL.has(type) && size >= 8) {
        format = 'mov'; // classic QuickTime files may start without ftyp
      } else {
        return null;
      }
    }
    if (size < headerLen) {
      if (!TOP_LEVEL.has(type)) throw notABox();
      throw fail('damaged', `the ${type} box at byte ${n(pos)} has size ${size}`);
    }
    if (pos + size > src.size) {
      // Unknown bytes that do not even fit are junk; a known box that does not fit was cut short.
      if (!TOP_LEVEL.has(type)) throw notABox();
      const noMoov = moov || type === 'moov' ? '' : '; no moov box (movie header) came before it';
      throw fail('truncated', `the ${type} box at byte ${n(pos)} declares ${n(size)} bytes, but the file ends ${n(src.size - pos)} bytes into it${noMoov}`);
    }
    if (type === 'moov' && !moov) {
      if (size > MAX_MOOV_BYTES) throw fail('damaged', `the moov box is implausibly large (${n(size)} bytes)`);
      moov = await src.read(pos + headerLen, size - headerLen);
      if (moov.length < size - headerLen) throw fail('truncated', 'the moov box is cut short');
    } else if (type === 'mdat') {
      hasMdat = true;
    } else if (type === 'moof') {
      moofBytes += size;
      if (moofBytes > MAX_MOOF_BYTES) throw fail('damaged', `its fragment headers (moof boxes) exceed ${n(MAX_MOOF_BYTES)} bytes`);
      moofs.push(await src.read(pos + headerLen, size - headerLen));
    }
    pos += size;
  }
  if (!format) return null;
  if (!moov) throw fail('damaged', 'no moov box: the movie header is missing');
  if (!hasMdat) throw fail('damaged', 'no mdat box: the file holds no media data');
  const parsed = parseMoov(moov, moofs);
  if (parsed.sampleDataEnd > src.size) {
    throw fail('truncated', `the tracks' samples run to byte ${n(parsed.sampleDataEnd)}, but the file ends at byte ${n(src.size)}`);
  }
  const { durationSeconds, width, height, hasVideoTrack, audio } = parsed;
  return { format, durationSeconds, width, height, bytes: src.size, hasVideoTrack, ...(audio ? { audio } : {}) };
}
