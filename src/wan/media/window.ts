// A sliding read window over a ByteSource, so walking many small structures does few reads.
import type { ByteSource } from './source';

export class ReadWindow {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly src: ByteSource,
    private readonly size = 1 << 20,
  ) {}

  /** `len` bytes at `pos` (fewer at the end of the source), as a slice of the window's buffer. */
  async bytes(pos: number, len: number): Promise<{ buf: Buffer; off: number }> {
    const end = this.start + this.buf.length;
    // A window that reaches the end of the source already holds all there is after `pos`.
    const inside = pos >= this.start && (pos + len <= end || (end >= this.src.size && pos <= end));
    if (!inside) {
      this.start = pos;
      this.buf = await this.src.read(pos, Math.max(len, this.size));
    }
    return { buf: this.buf, off: pos - this.start };
  }

  /** A copy-free view of `len` bytes at `pos`, shorter only at the end of the source. */
  async view(pos: number, len: number): Promise<Buffer> {
    const { buf, off } = await this.bytes(pos, len);
    return buf.subarray(off, off + len);
  }
}
