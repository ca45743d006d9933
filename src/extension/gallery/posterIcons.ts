// Poster frames for the window: the Tasks view asks synchronously (a TreeItem's icon must be an image file it
// already has) and is told when one it asked for is ready; the Gallery awaits them. Made lazily, once per video.
import * as vscode from 'vscode';
import type { PosterCache } from '../../gallery/poster';

export class PosterIcons implements vscode.Disposable {
  /** A video's poster path, or null when it cannot have one. */
  private readonly known = new Map<string, string | null>();
  private readonly asked = new Set<string>();
  private readonly made = new vscode.EventEmitter<string>();
  /** Fires with the video whose poster (asked for by `iconOf`) is now ready. */
  readonly onDidMake = this.made.event;

  constructor(readonly cache: PosterCache) {}

  /** The poster's URI when it is ready; otherwise undefined, and (with `make`) it is made and announced. */
  iconOf(video: string, make = true): vscode.Uri | undefined {
    const path = this.known.get(video);
    if (path) return vscode.Uri.file(path);
    if (path === null || this.asked.has(video)) return undefined;
    this.asked.add(video);
    void (make ? this.cache.posterOf(video) : this.cache.cached(video)).then(
      (made) => {
        if (!made && !make) {
          this.asked.delete(video); // not made yet: a later ask with `make` makes it
          return;
        }
        this.known.set(video, made ?? null);
        if (made) this.made.fire(video);
      },
      () => this.known.set(video, null),
    );
    return undefined;
  }

  /** The poster's path, made now if needed (undefined when the video cannot give one). */
  async posterOf(video: string): Promise<string | undefined> {
    const known = this.known.get(video);
    if (known !== undefined) return known ?? undefined;
    const made = await this.cache.posterOf(video);
    this.known.set(video, made ?? null);
    return made;
  }

  /** A deleted or replaced video's poster is looked for again. */
  forget(video: string): void {
    this.known.delete(video);
    this.asked.delete(video);
  }

  dispose(): void {
    this.made.dispose();
  }
}
