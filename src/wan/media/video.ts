// Pure-TypeScript MP4/QuickTime probing: walks the top-level boxes by seeking (mdat is never read) to
// the end of the file, so a cut file is caught, then parses the moov box: mvhd duration, the video
// track's displayed size, the audio track's codec, and the sample tables' extent (which must lie inside the file).
import { MediaProbeError, withSource, type ByteSource } from './source';

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

/**
 * Audio codec of a track: `aac`, `mp3`, `opus`, `flac`, `vorbis`, `ac3`, `eac3`, `alac`, `pcm`, or the
 * sample entry's four-character code when it is none of those.
 */
export type AudioCodec = 'aac' | 'mp3' | 'opus' | 'flac' | 'vorbis' | 'ac3' | 'eac3' | 'alac' | 'pcm' | (string & {});

export interface AudioTrackInfo {
  codec: AudioCodec;
  /** As the sample entry declares it (MP4 writers may put a template value there). */
  sampleRate: number;
  durationSeconds: number;
}

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'meta', 'moof', 'mfra', 'styp', 'sidx', 'ssix', 'pdin', 'prft', 'emsg', 'udta', 'junk']);
const IMAGE_BRANDS = /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1|avif|avis)$/;
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** All moof boxes together; a fragment header is a few hundred bytes per second of video. */
const MAX_MOOF_BYTES = 32 * 1024 * 1024;

const n = (v: number) => v.toLocaleString('en-US');

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

interface Box {
  type: string;
  /** Payload (after the header). */
  data: Buffer;
}

function* boxes(buf: Buffer, start = 0): Generator<Box> {
  let p = start;
  while (p + 8 <= buf.length) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let hl = 8;
    if (size === 1) {
      if (p + 16 > buf.length) return;
      size = Number(buf.readBigUInt64BE(p + 8));
      hl = 16;
    } else if (size === 0) {
      size = buf.length - p;
    }
    if (size < hl || p + size > buf.length) return;
    yield { type, data: buf.subarray(p + hl, p + size) };
    p += size;
  }
}

function child(buf: Buffer, type: string): Buffer | undefined {
  for (const b of boxes(buf)) if (b.type === type) return b.data;
  return undefined;
}

function path(buf: Buffer | undefined, ...types: string[]): Buffer | undefined {
  let cur = buf;
  for (const t of types) {
    if (!cur) return undefined;
    cur = child(cur, t);
  }
  return cur;
}

/** timescale and duration of an mvhd/mdhd payload (versions 0 and 1). */
function timeHeader(d: Buffer): { timescale: number; duration: number } | undefined {
  const v = d[0];
  if (v === 1) {
    if (d.length < 32) return undefined;
    const dur = d.readBigUInt64BE(24);
    return { timescale: d.readUInt32BE(20), duration: dur === 0xffffffffffffffffn ? 0 : Number(dur) };
  }
  if (d.length < 20) return undefined;
  const dur = d.readUInt32BE(16);
  return { timescale: d.readUInt32BE(12), duration: dur === 0xffffffff ? 0 : dur };
}

function parseMoov(moov: Buffer, moofs: Buffer[]): Omit<VideoInfo, 'format' | 'bytes'> & { sampleDataEnd: number } {
  let durationSeconds = 0;
  const mvhd = child(moov, 'mvhd');
  const mv = mvhd ? timeHeader(mvhd) : undefined;
  if (mv && mv.timescale > 0) durationSeconds = mv.duration / mv.timescale;
  if (!durationSeconds && mv && mv.timescale > 0) {
    // Fragmented file: mvex/mehd holds the whole duration.
    const mehd = path(moov, 'mvex', 'mehd');
    if (mehd && mehd.length >= 8) {
      const d = mehd[0] === 1 && mehd.length >= 12 ? Number(mehd.readBigUInt64BE(4)) : mehd.readUInt32BE(4);
      durationSeconds = d / mv.timescale;
    }
  }

  let video: { width: number; height: number; enabled: boolean } | undefined;
  let audio: AudioTrackInfo | undefined;
  let longestTrack = 0;
  let sampleDataEnd = 0;
  for (const b of boxes(moov)) {
    if (b.type !== 'trak') continue;
    const mdia = child(b.data, 'mdia');
    const stbl = mdia && path(mdia, 'minf', 'stbl');
    if (stbl) sampleDataEnd = Math.max(sampleDataEnd, samplesEnd(stbl));
    const mdhd = mdia && child(mdia, 'mdhd');
    const md = mdhd ? timeHeader(mdhd) : undefined;
    if (md && md.timescale > 0) longestTrack = Math.max(longestTrack, md.duration / md.timescale);
    const hdlr = mdia && child(mdia, 'hdlr');
    const handler = hdlr && hdlr.length >= 12 ? hdlr.toString('latin1', 8, 12) : '';
    if (handler === 'soun' && !audio && mdia) {
      audio = audioTrack(mdia, md && md.timescale > 0 ? md.duration / md.timescale : 0);
      continue;
    }
    if (handler !== 'vide' || !mdia) continue;
    const dims = trackDims(b.data, mdia);
    // Prefer the first enabled video track with a size.
    if (!video || (!video.enabled && dims.enabled) || (video.width === 0 && dims.width > 0)) video = dims;
  }
  if (!durationSeconds) durationSeconds = longestTrack;
  // A fragmented file's samples (all of them, with an empty moov) are described by its moof boxes.
  if (moofs.length) durationSeconds = Math.max(durationSeconds, fragmentsDuration(moov, moofs));
  return {
    durationSeconds,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    hasVideoTrack: video !== undefined,
    ...(audio ? { audio } : {}),
    sampleDataEnd,
  };
}
const PCM_ENTRIES = new Set(['lpcm', 'sowt', 'twos', 'in24', 'in32', 'fl32', 'fl64', 'raw ', 'ipcm', 'fpcm']);
const FOURCC_CODECS: Record<string, AudioCodec> = {
  Opus: 'opus', fLaC: 'flac', 'ac-3': 'ac3', 'ec-3': 'eac3', alac: 'alac', '.mp3': 'mp3', 'ms\x00\x55': 'mp3',
};

/** Codec and rate of a sound track's first sample entry (ISO and QuickTime sound descriptions). Its channel
 * count is not reported: ISO writers put the template value 2 there whatever the stream holds. */
function audioTrack(mdia: Buffer, durationSeconds: number): AudioTrackInfo | undefined {
  const stsd = path(mdia, 'minf', 'stbl', 'stsd');
  if (!stsd || stsd.length < 8) return undefined;
  for (const entry of boxes(stsd, 8)) {
    const d = entry.data;
    // SoundSampleEntry: 6 reserved + data ref (2) + version (2) + 6 reserved + channels (2) + bits (2) + 4 + rate (16.16).
    const sampleRate = d.length >= 28 ? d.readUInt32BE(24) >>> 16 : 0;
    let codec: AudioCodec = FOURCC_CODECS[entry.type] ?? (PCM_ENTRIES.has(entry.type) ? 'pcm' : entry.type.trim());
    if (entry.type === 'mp4a') codec = mp4aCodec(d) ?? 'aac';
    return { codec, sampleRate, durationSeconds };
  }
  return undefined;
}

/**
 * `mp4a` covers AAC and MP3 alike: the esds box's DecoderConfigDescriptor names the object type
 * (0x40, 0x66..0x68 AAC; 0x69, 0x6B MPEG audio layer 3). The esds may sit inside a QuickTime `wave` box,
 * so it is searched for by name within the sample entry.
 */
function mp4aCodec(entry: Buffer): AudioCodec | undefined {
  const at = entry.indexOf('esds', 0, 'latin1');
  if (at < 4) return undefined;
  const esds = entry.subarray(at + 4 + 4); // past the name and the esds version/flags
  let p = 0;
  const descriptor = (): { tag: number; len: number } | undefined => {
    if (p >= esds.length) return undefined;
    const tag = esds[p++]!;
    let len = 0;
    for (let i = 0; i < 4 && p < esds.length; i++) {
      const b = esds[p++]!;
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, len };
  };
  const es = descriptor();
  if (!es || es.tag !== 0x03 || p + 3 > esds.length) return undefined;
  const flags = esds[p + 2]!;
  p += 3; // ES_ID, flags
  if (flags & 0x80) p += 2; // dependsOn_ES_ID
  if (flags & 0x40) p += 1 + (esds[p] ?? 0); // URL
  if (flags & 0x20) p += 2; // OCR_ES_Id
  const config = descriptor();
  if (!config || config.tag !== 0x04 || p >= esds.length) return undefined;
  const objectType = esds[p]!;
  if (objectType === 0x69 || objectType === 0x6b) return 'mp3';
  if (objectType === 0x40 || (objectType >= 0x66 && objectType <= 0x68)) return 'aac';
  if (objectType === 0xdd) return 'vorbis';
  return `mp4a.${objectType.toString(16)}`;
}


/**
 * The end of a track's last sample in the file, from its sample tables (stsz sizes, stsc chunk
 * layout, stco/co64 chunk offsets); 0 when the tables are empty (a fragmented file) or unreadable.
 */
function samplesEnd(stbl: Buffer): number {
  const stsz = child(stbl, 'stsz');
  const stsc = child(stbl, 'stsc');
  const stco = child(stbl, 'stco');
  const co64 = child(stbl, 'co64');
  const offsets = stco ?? co64;
  if (!stsz || !stsc || !offsets || stsz.length < 12 || stsc.length < 8 || offsets.length < 8) return 0;
  const fixedSize = stsz.readUInt32BE(4);
  const sampleCount = fixedSize ? stsz.readUInt32BE(8) : Math.min(stsz.readUInt32BE(8), (stsz.length - 12) >> 2);
  const sampleSize = (i: number) => stsz.readUInt32BE(12 + 4 * i);
  const width = stco ? 4 : 8;
  const chunkCount = Math.min(offsets.readUInt32BE(4), Math.floor((offsets.length - 8) / width));
  const chunkOffset = (i: number) => (stco ? stco.readUInt32BE(8 + 4 * i) : Number(co64!.readBigUInt64BE(8 + 8 * i)));
  const runs = Math.min(stsc.readUInt32BE(4), Math.floor((stsc.length - 8) / 12));
  let sample = 0;
  let end = 0;
  for (let r = 0; r < runs && sample < sampleCount; r++) {
    const first = stsc.readUInt32BE(8 + 12 * r);
    const perChunk = stsc.readUInt32BE(12 + 12 * r);
    const next = r + 1 < runs ? stsc.readUInt32BE(8 + 12 * (r + 1)) : chunkCount + 1;
    for (let c = Math.max(first, 1); c < next && c <= chunkCount && sample < sampleCount; c++) {
      let at = chunkOffset(c - 1);
      if (fixedSize) {
        const k = Math.min(perChunk, sampleCount - sample);
        at += k * fixedSize;
        sample += k;
      } else {
        for (let k = 0; k < perChunk && sample < sampleCount; k++) at += sampleSize(sample++);
      }
      if (at > end) end = at;
    }
  }
  return end;
}

function trackDims(trak: Buffer, mdia: Buffer): { width: number; height: number; enabled: boolean } {
  let width = 0;
  let height = 0;
  let rotated = false;
  let enabled = true;
  const tkhd = child(trak, 'tkhd');
  if (tkhd && tkhd.length >= 4) {
    const v1 = tkhd[0] === 1;
    enabled = ((tkhd.readUInt32BE(0) & 0xffffff) & 1) === 1;
    const m = v1 ? 52 : 40; // matrix offset
    const w = v1 ? 88 : 76;
    if (tkhd.length >= w + 8) {
      width = Math.round(tkhd.readUInt32BE(w) / 65536);
      height = Math.round(tkhd.readUInt32BE(w + 4) / 65536);
      const a = tkhd.readInt32BE(m);
      const b = tkhd.readInt32BE(m + 4);
      // [a b u; c d v; x y w]: a 90/270 degree rotation has a = d = 0 and |b| = |c|.
      rotated = Math.abs(b) > Math.abs(a);
    }
  }
  if (width === 0 || height === 0) {
    const stsd = path(mdia, 'minf', 'stbl', 'stsd');
    if (stsd && stsd.length >= 8 + 36) {
      // First visual sample entry (avc1, hvc1, ...): width/height at 24/26 of its payload.
      const entry = stsd.subarray(8);
      for (const e of boxes(entry)) {
        if (e.data.length >= 28) {
          width = e.data.readUInt16BE(24);
          height = e.data.readUInt16BE(26);
        }
        break;
      }
    }
  }
  return rotated ? { width: height, height: width, enabled } : { width, height, enabled };
}

/** u32 at `o`, or undefined past the end of `b`. */
const u32 = (b: Buffer, o: number): number | undefined => (o + 4 <= b.length ? b.readUInt32BE(o) : undefined);

/**
 * Seconds covered by the fragments: per track, the end of its last fragment run (tfdt decode time, or the
 * running total, plus the trun sample durations, defaulting to tfhd's then trex's), over its mdhd timescale.
 */
function fragmentsDuration(moov: Buffer, moofs: Buffer[]): number {
  const tracks = new Map<number, { timescale: number; defaultDuration: number; end: number; next: number }>();
  for (const b of boxes(moov)) {
    if (b.type !== 'trak') continue;
    const tkhd = child(b.data, 'tkhd');
    const mdhd = path(b.data, 'mdia', 'mdhd');
    const id = tkhd && u32(tkhd, tkhd[0] === 1 ? 20 : 12);
    const md = mdhd && timeHeader(mdhd);
    if (id === undefined || !md || !(md.timescale > 0)) continue;
    // Samples already in the moov come first (a file fragmented after its first part).
    tracks.set(id, { timescale: md.timescale, defaultDuration: 0, end: md.duration, next: md.duration });
  }
  const mvex = child(moov, 'mvex');
  for (const b of mvex ? boxes(mvex) : []) {
    if (b.type !== 'trex') continue;
    const t = tracks.get(u32(b.data, 4) ?? -1);
    if (t) t.defaultDuration = u32(b.data, 12) ?? 0;
  }
  for (const moof of moofs) {
    for (const traf of boxes(moof)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(traf.data, 'tfhd');
      const t = tfhd && tracks.get(u32(tfhd, 4) ?? -1);
      if (!tfhd || !t) continue;
      const tfFlags = tfhd.readUInt32BE(0) & 0xffffff;
      // Optional tfhd fields, in order: base_data_offset (8), sample_description_index, default_sample_duration.
      let o = 8 + (tfFlags & 0x01 ? 8 : 0) + (tfFlags & 0x02 ? 4 : 0);
      const defaultDuration = tfFlags & 0x08 ? (u32(tfhd, o) ?? t.defaultDuration) : t.defaultDuration;
      const tfdt = child(traf.data, 'tfdt');
      let at = t.next;
      if (tfdt && tfdt.length >= 8) at = tfdt[0] === 1 && tfdt.length >= 12 ? Number(tfdt.readBigUInt64BE(4)) : tfdt.readUInt32BE(4);
      for (const run of boxes(traf.data)) {
        if (run.type !== 'trun' || run.data.length < 8) continue;
        const flags = run.data.readUInt32BE(0) & 0xffffff;
        const count = run.data.readUInt32BE(4);
        o = 8 + (flags & 0x01 ? 4 : 0) + (flags & 0x04 ? 4 : 0); // data_offset, first_sample_flags
        if (flags & 0x100) {
          // Per-sample records: duration first, then size, flags, composition offset when present.
          const stride = 4 * (1 + (flags & 0x200 ? 1 : 0) + (flags & 0x400 ? 1 : 0) + (flags & 0x800 ? 1 : 0));
          const records = Math.min(count, Math.floor((run.data.length - o) / stride));
          for (let i = 0; i < records; i++) at += run.data.readUInt32BE(o + i * stride);
        } else {
          at += count * defaultDuration;
        }
      }
      t.next = at;
      t.end = Math.max(t.end, at);
    }
  }
  let seconds = 0;
  for (const t of tracks.values()) seconds = Math.max(seconds, t.end / t.timescale);
  return seconds;
}
