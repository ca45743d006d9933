// A saved video's poster frame: a small PNG taken once from the video with the project's WebAssembly ffmpeg,
// kept in a cache folder the caller owns (never beside the user's video), keyed by the video's path, size and
// modification time. The Tasks view shows it as the video's icon, the Gallery as its thumbnail. No vscode.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { previewKey } from '../preview/audioPreview';
import { memfsNames, runWasmFfmpeg } from '../ffmpeg/wasmFfmpeg';

/** Wide enough for a gallery card; the tree scales it down. */
export const POSTER_WIDTH = 320;
/** Posters kept; the oldest go first. */
const KEEP_POSTERS = 500;

export class PosterCache {
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  /** One ffmpeg at a time: a batch of posters never takes both cores. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** The poster's path if it was made already (no work). */
  async cached(video: string): Promise<string | undefined> {
    const target = await this.targetOf(video);
    return target && (await stat(target).then((s) => s.size > 0, () => false)) ? target : undefined;
  }

  /** The poster of `video`, made now if needed; undefined when the video cannot give one. */
  async posterOf(video: string): Promise<string | undefined> {
    const target = await this.targetOf(video);
    if (!target) return undefined;
    if (await stat(target).then((s) => s.size > 0, () => false)) return target;
    const running = this.inFlight.get(target);
    if (running) return running;
    const job = (this.queue = this.queue.then(() => this.make(video, target), () => this.make(video, target))).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, job);
    return job;
  }

  private async targetOf(video: string): Promise<string | undefined> {
    const s = await stat(video).catch(() => undefined);
    return s?.isFile() ? join(this.dir, `${previewKey(video, s.size, s.mtimeMs)}.png`) : undefined;
  }

  private async make(video: string, target: string): Promise<string | undefined> {
    await mkdir(this.dir, { recursive: true });
    const partial = join(this.dir, `${randomBytes(6).toString('hex')}.partial.png`);
    const names = memfsNames(video, partial);
    try {
      // The first frame a viewer sees; scaled down to an even height, one image.
      const result = await runWasmFfmpeg({
        input: video,
        output: partial,
        args: ['-i', names.input, '-frames:v', '1', '-vf', `scale=${POSTER_WIDTH}:-2`, '-update', '1', names.output],
        timeoutMs: 60_000,
      });
      if (result.code !== 0) {
        this.log(`No poster for ${video}: ffmpeg exited with ${result.code}: ${result.log.trim().split('\n').slice(-2).join(' ')}`);
        return undefined;
      }
      await rename(partial, target);
      await this.prune();
      return target;
    } catch (error) {
      this.log(`No poster for ${video}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      await rm(partial, { force: true });
    }
  }

  private async prune(): Promise<void> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.png') && !n.endsWith('.partial.png'));
    if (names.length <= KEEP_POSTERS) return;
    const dated = await Promise.all(names.map(async (n) => ({ path: join(this.dir, n), at: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.at - a.at);
    await Promise.all(dated.slice(KEEP_POSTERS).map((f) => rm(f.path, { force: true })));
  }
}
