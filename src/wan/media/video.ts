// Pure-TypeScript MP4/QuickTime probing: walks the top-level boxes by seeking (mdat is never read),
// then parses only the moov box: mvhd duration, the video track's displayed size, the audio track's codec.
import { MediaProbeError, withSource, type ByteSource } from './image';

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

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'meta', 'moof', 'mfra', 'styp', 'sidx', 'pdin', 'prft', 'emsg']);
const IMAGE_BRANDS = /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1|avif|avis)$/;
const MAX_MOOV_BYTES = 64 * 1024 * 1024;

/**
 * Probes an MP4 or MOV file. Returns null when the data is not an ISO BMFF/QuickTime movie;
 * throws MediaProbeError when it is one but is damaged or has no moov box.
 */
export async function probeVideo(input: string | Buffer): Promise<VideoInfo | null> {
  return withSource(input, (src) => probeVideoSource(src));
}

async function probeVideoSource(src: ByteSource): Promise<VideoInfo | null> {
  let pos = 0;
  let format: VideoFormat | undefined;
  let moov: Buffer | undefined;
  for (let n = 0; n < 100000 && pos + 8 <= src.size; n++) {
    const h = await src.read(pos, 16);
    if (h.length < 8) break;
    let size = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    let headerLen = 8;
    if (size === 1) {
      if (h.length < 16) break;
      size = Number(h.readBigUInt64BE(8));
      headerLen = 16;
    } else if (size === 0) {
      size = src.size - pos; // runs to the end of the file
    }
    if (n === 0) {
      if (type === 'ftyp') {
        const brands = await src.read(pos + 8, Math.min(size - 8, 64));
        const major = brands.toString('latin1', 0, 4);
        if (IMAGE_BRANDS.test(major)) return null;
        format = major === 'qt  ' ? 'mov' : 'mp4';
      } else if (TOP_LEVEL.has(type) && size >= 8) {
        format = 'mov'; // classic QuickTime files may start without ftyp
      } else {
        return null;
      }
    }
    if (size < headerLen) throw new MediaProbeError(`damaged ${format ?? 'MP4'} file (box "${type}" has size ${size})`);
    if (type === 'moov') {
      if (size > MAX_MOOV_BYTES) throw new MediaProbeError(`moov box is implausibly large (${size} bytes)`);
      moov = await src.read(pos + headerLen, size - headerLen);
      if (moov.length < size - headerLen) throw new MediaProbeError('truncated file (moov box cut short)');
      break;
    }
    pos += size;
  }
  if (!format) return null;
  if (!moov) throw new MediaProbeError(`damaged ${format.toUpperCase()} file (no moov box: the movie header is missing or the file is truncated)`);
  return { format, bytes: src.size, ...parseMoov(moov) };
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

function parseMoov(moov: Buffer): Omit<VideoInfo, 'format' | 'bytes'> {
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
  for (const b of boxes(moov)) {
    if (b.type !== 'trak') continue;
    const mdia = child(b.data, 'mdia');
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
  return {
    durationSeconds,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    hasVideoTrack: video !== undefined,
    ...(audio ? { audio } : {}),
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
