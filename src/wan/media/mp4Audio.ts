// A movie's sound track: its codec (from the sample entry, and for mp4a from the esds descriptor) and rate.
import { boxes, path } from './boxes';

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

const PCM_ENTRIES = new Set(['lpcm', 'sowt', 'twos', 'in24', 'in32', 'fl32', 'fl64', 'raw ', 'ipcm', 'fpcm']);
const FOURCC_CODECS: Record<string, AudioCodec> = {
  Opus: 'opus', fLaC: 'flac', 'ac-3': 'ac3', 'ec-3': 'eac3', alac: 'alac', '.mp3': 'mp3', 'ms\x00\x55': 'mp3',
};

/** Codec and rate of a sound track's first sample entry (ISO and QuickTime sound descriptions). Its channel
 * count is not reported: ISO writers put the template value 2 there whatever the stream holds. */
export function audioTrack(mdia: Buffer, durationSeconds: number): AudioTrackInfo | undefined {
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
