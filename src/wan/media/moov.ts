// The movie header (moov) and fragment headers (moof): duration, the video track's displayed size, the
// first sound track, and where the tracks' samples end in the file.
import { boxes, child, path, timeHeader, u32 } from './boxes';
import { audioTrack, type AudioTrackInfo } from './mp4Audio';

/** What the movie's headers say; `sampleDataEnd` is where its samples end, to be checked against the file. */
export interface MovieFacts {
  durationSeconds: number;
  width: number;
  height: number;
  hasVideoTrack: boolean;
  audio?: AudioTrackInfo;
  sampleDataEnd: number;
}

export function parseMoov(moov: Buffer, moofs: Buffer[]): MovieFacts {
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
