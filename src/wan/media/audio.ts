// Pure-TypeScript audio probing (WAV, MP3): duration, sample rate, channels. Reads headers only,
// except an MP3 without a Xing/Info/VBRI header, whose frame headers are scanned in 1 MB windows.
// A file shorter than its header says (a WAV data chunk, an MP3's Xing/VBRI byte count) is refused.
import { MediaProbeError, withSource, type ByteSource } from './source';
import { ReadWindow } from './window';

export type AudioFormat = 'wav' | 'mp3';

export interface AudioInfo {
  format: AudioFormat;
  durationSeconds: number;
  /** File size in bytes. */
  bytes: number;
  sampleRate: number;
  channels: number;
}

/**
 * Probes a WAV or MP3 file by its magic bytes. Returns null when it is neither;
 * throws MediaProbeError when the header is damaged or truncated.
 */
export async function probeAudio(input: string | Buffer): Promise<AudioInfo | null> {
  return withSource(input, async (src) => {
    const head = await src.read(0, 12);
    if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') {
      return probeWav(src);
    }
    return probeMp3(src);
  });
}

// ---------------------------------------------------------------- WAV

async function probeWav(src: ByteSource): Promise<AudioInfo> {
  let pos = 12;
  let fmt: { formatTag: number; channels: number; sampleRate: number; byteRate: number; blockAlign: number } | undefined;
  for (let n = 0; n < 10000 && pos + 8 <= src.size; n++) {
    const h = await src.read(pos, 8);
    if (h.length < 8) break;
    const id = h.toString('latin1', 0, 4);
    const size = h.readUInt32LE(4);
    if (id === 'fmt ') {
      const f = await src.read(pos + 8, Math.min(size, 40));
      if (f.length < 16) throw new MediaProbeError('damaged WAV header (fmt chunk too short)');
      let formatTag = f.readUInt16LE(0);
      if (formatTag === 0xfffe && f.length >= 26) formatTag = f.readUInt16LE(24); // WAVE_FORMAT_EXTENSIBLE: SubFormat GUID's first 2 bytes
      fmt = {
        formatTag,
        channels: f.readUInt16LE(2),
        sampleRate: f.readUInt32LE(4),
        byteRate: f.readUInt32LE(8),
        blockAlign: f.readUInt16LE(12),
      };
    } else if (id === 'data') {
      if (!fmt) throw new MediaProbeError('damaged WAV header (data chunk before fmt chunk)');
      // A streaming writer may leave 0 or 0xFFFFFFFF: then the data runs to the end of the file.
      const available = src.size - (pos + 8);
      const open = size === 0 || size === 0xffffffff;
      if (!open && size > available) {
        throw new MediaProbeError(
          `truncated WAV file (the data chunk declares ${size.toLocaleString('en-US')} bytes of audio, but the file holds ${available.toLocaleString('en-US')})`,
        );
      }
      const dataBytes = open ? available : size;
      const byteRate = fmt.byteRate || fmt.blockAlign * fmt.sampleRate;
      if (!byteRate) throw new MediaProbeError('damaged WAV header (byte rate is 0)');
      return {
        format: 'wav',
        durationSeconds: dataBytes / byteRate,
        bytes: src.size,
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
      };
    }
    pos += 8 + size + (size & 1);
  }
  throw new MediaProbeError(fmt ? 'damaged WAV file (no data chunk)' : 'damaged WAV file (no fmt chunk)');
}

// ---------------------------------------------------------------- MP3

const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

interface FrameHeader {
  mpeg1: boolean;
  sampleRate: number;
  channels: number;
  samples: number;
  length: number;
  bitrateKbps: number;
}

/** Parses an MPEG audio Layer III frame header; undefined if the 4 bytes are not one. */
export function parseMp3FrameHeader(b: Buffer, o: number): FrameHeader | undefined {
  if (o + 4 > b.length) return undefined;
  const b1 = b[o + 1] as number;
  const b2 = b[o + 2] as number;
  const b3 = b[o + 3] as number;
  if (b[o] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3; // 0 = 2.5, 1 = reserved, 2 = MPEG-2, 3 = MPEG-1
  const layer = (b1 >> 1) & 3; // 1 = Layer III
  if (version === 1 || layer !== 1) return undefined;
  const brIndex = b2 >> 4;
  const srIndex = (b2 >> 2) & 3;
  if (brIndex === 0 || brIndex === 15 || srIndex === 3) return undefined; // free-format / bad / reserved
  if ((b3 & 3) === 2) return undefined; // reserved emphasis
  const mpeg1 = version === 3;
  const bitrateKbps = (mpeg1 ? BITRATES_V1_L3 : BITRATES_V2_L3)[brIndex] as number;
  const sampleRate = (SAMPLE_RATES[version] as readonly number[])[srIndex] as number;
  const padding = (b2 >> 1) & 1;
  const samples = mpeg1 ? 1152 : 576;
  const length = Math.floor(((samples / 8) * bitrateKbps * 1000) / sampleRate) + padding;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  return { mpeg1, sampleRate, channels, samples, length, bitrateKbps };
}

async function skipId3v2(src: ByteSource): Promise<number> {
  let pos = 0;
  for (let n = 0; n < 16; n++) {
    const h = await src.read(pos, 10);
    if (h.length < 10 || h.toString('latin1', 0, 3) !== 'ID3') break;
    const size = ((h[6]! & 0x7f) << 21) | ((h[7]! & 0x7f) << 14) | ((h[8]! & 0x7f) << 7) | (h[9]! & 0x7f);
    const footer = (h[5]! & 0x10) !== 0 ? 10 : 0;
    pos += 10 + size + footer;
  }
  return pos;
}

async function probeMp3(src: ByteSource): Promise<AudioInfo | null> {
  const tagEnd = await skipId3v2(src);
  const hadId3 = tagEnd > 0;
  // Find the first frame whose successor is also a valid frame (with the same version and sample rate).
  // Without an ID3 tag the frame must start the file, so random data is never taken for MP3.
  const searchLimit = hadId3 ? 256 * 1024 : 1;
  const win = new ReadWindow(src);
  let first = -1;
  let fh: FrameHeader | undefined;
  for (let p = tagEnd; p < tagEnd + searchLimit && p + 4 <= src.size; p++) {
    const { buf, off } = await win.bytes(p, 4);
    const h = parseMp3FrameHeader(buf, off);
    if (!h) continue;
    const nextPos = p + h.length;
    if (nextPos + 4 <= src.size) {
      const nx = await win.bytes(nextPos, 4);
      const h2 = parseMp3FrameHeader(nx.buf, nx.off);
      if (!h2 || h2.sampleRate !== h.sampleRate || h2.mpeg1 !== h.mpeg1) continue;
    }
    first = p;
    fh = h;
    break;
  }
  if (first < 0 || !fh) return null;

  const frame = await src.read(first, Math.min(fh.length, 512));
  const vbr = parseVbrHeader(frame, fh);
  // The encoder's byte count covers the whole stream from this frame; a cut file holds less.
  if (vbr?.bytes && first + vbr.bytes > src.size) {
    throw new MediaProbeError(
      `truncated MP3 file (its ${vbr.tag} header declares ${vbr.bytes.toLocaleString('en-US')} bytes of audio, but the file holds ${(src.size - first).toLocaleString('en-US')})`,
    );
  }
  let durationSeconds: number;
  if (vbr && vbr.frames > 0) {
    let samples = vbr.frames * fh.samples;
    if (vbr.delay + vbr.padding < samples) samples -= vbr.delay + vbr.padding;
    durationSeconds = samples / fh.sampleRate;
  } else {
    const scanned = await scanFrames(src, win, vbr ? first + fh.length : first);
    if (scanned !== undefined && scanned > 0) {
      durationSeconds = scanned / fh.sampleRate;
    } else {
      // Last resort: constant bit rate estimate from the first frame.
      durationSeconds = ((src.size - first) * 8) / (fh.bitrateKbps * 1000);
    }
  }
  return { format: 'mp3', durationSeconds, bytes: src.size, sampleRate: fh.sampleRate, channels: fh.channels };
}

/** Xing/Info (with the LAME tag's encoder delay and padding) or VBRI header in the first frame. */
function parseVbrHeader(f: Buffer, h: FrameHeader): { tag: string; frames: number; bytes: number; delay: number; padding: number } | undefined {
  const sideInfo = h.mpeg1 ? (h.channels === 1 ? 17 : 32) : h.channels === 1 ? 9 : 17;
  const x = 4 + sideInfo;
  const tag = f.toString('latin1', x, x + 4);
  if ((tag === 'Xing' || tag === 'Info') && f.length >= x + 8) {
    const flags = f.readUInt32BE(x + 4);
    let p = x + 8;
    let frames = 0;
    let bytes = 0;
    if (flags & 1) {
      if (f.length < p + 4) return undefined;
      frames = f.readUInt32BE(p);
      p += 4;
    }
    if (flags & 2) {
      if (f.length >= p + 4) bytes = f.readUInt32BE(p);
      p += 4;
    }
    if (flags & 4) p += 100; // TOC
    if (flags & 8) p += 4; // quality
    let delay = 0;
    let padding = 0;
    // LAME/Lavc extension: 9-byte encoder string, then delay/padding (12 bits each) 21 bytes in.
    if (f.length >= p + 24 && /^[A-Za-z]{4}/.test(f.toString('latin1', p, p + 4))) {
      const dp = f.readUIntBE(p + 21, 3);
      delay = dp >> 12;
      padding = dp & 0xfff;
    }
    return { tag, frames, bytes, delay, padding };
  }
  if (f.toString('latin1', 36, 40) === 'VBRI' && f.length >= 36 + 18) {
    return { tag: 'VBRI', frames: f.readUInt32BE(36 + 14), bytes: f.readUInt32BE(36 + 10), delay: 0, padding: 0 };
  }
  return undefined;
}

/** Sums the samples of every frame from `pos` on; undefined if the stream cannot be followed. */
async function scanFrames(src: ByteSource, win: ReadWindow, pos: number): Promise<number | undefined> {
  let samples = 0;
  let frames = 0;
  let lostBytes = 0;
  while (pos + 4 <= src.size) {
    const { buf, off } = await win.bytes(pos, 4);
    const h = parseMp3FrameHeader(buf, off);
    if (h && pos + h.length <= src.size) {
      samples += h.samples;
      frames++;
      pos += h.length;
      continue;
    }
    // Trailing tags end the audio.
    const tag = buf.toString('latin1', off, off + 3);
    if (tag === 'TAG' || tag === 'APE' || tag === 'LYR' || tag === 'ID3') break;
    // Resynchronise byte by byte, giving up if most of the file is garbage.
    pos++;
    if (++lostBytes > 64 * 1024 && lostBytes > frames * 4) return frames > 0 ? samples : undefined;
  }
  return frames > 0 ? samples : undefined;
}
