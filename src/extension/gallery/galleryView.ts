// The Gallery: a view in the Wan Studio side bar listing every saved video of the workspace (src/gallery
// collects them) with poster frames, search and filters, and the actions Play, Reveal, Continue and Delete. The
// page names a card by the key the host gave it, so it can only act on a file the host found, and it shows
// only the videos and posters the host named (media references; it loads nothing from disk itself).
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { collectGallery, filterGallery } from '../../gallery/entries';
import type { GalleryEntry } from '../../gallery/schema';
import {
  GalleryPageMessage,
  type GalleryCard,
  type GalleryHostMessage,
  type GalleryLabels,
  type GalleryParams,
  type GalleryResults,
} from '../../protocol/gallery';
import type { Reply, NotificationHandlers, RequestHandlers } from '../../protocol/rpc';
import { CommandIds } from '../commands/ids';
import { UserError } from '../userError';
import type { TaskService } from '../tasks/service';
import { WebviewHost } from '../webviews/host';
import { pageHtml } from '../webviews/pageHtml';
import { galleryFolders, workspaceRecords } from './folders';
import type { PosterIcons } from './posterIcons';

export { GALLERY_VIEW_ID } from '../viewIds';
/** Posters made per listing (the rest show their video's first frame until a later listing makes theirs). */
const POSTERS_PER_LIST = 24;

export interface GalleryDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  tasks: TaskService;
  posters: PosterIcons;
}

type Ready = { type: 'ready' };

function labels(): GalleryLabels {
  return {
    search: vscode.l10n.t('Search prompts and names'),
    mode: vscode.l10n.t('Mode'),
    date: vscode.l10n.t('Made'),
    modes: {
      all: vscode.l10n.t('All modes'),
      animate: vscode.l10n.t('Animate an image'),
      morph: vscode.l10n.t('First to last frame'),
      continue: vscode.l10n.t('Continue a video'),
      unknown: vscode.l10n.t('Not recorded'),
    },
    dates: { all: vscode.l10n.t('Any time'), today: vscode.l10n.t('Today'), week: vscode.l10n.t('Last 7 days'), month: vscode.l10n.t('Last 30 days') },
    play: vscode.l10n.t('Play'),
    reveal: vscode.l10n.t('Reveal'),
    continueVideo: vscode.l10n.t('Continue'),
    delete: vscode.l10n.t('Delete'),
    rehearsal: vscode.l10n.t('Rehearsal'),
    count: vscode.l10n.t('{0} of {1} videos'),
    empty: vscode.l10n.t('No saved videos yet. Videos made here or with wan-video in the output folder appear here.'),
    noMatch: vscode.l10n.t('No video matches.'),
  };
}

class GalleryPage extends WebviewHost<GalleryParams, GalleryResults, Ready, GalleryHostMessage, object, vscode.WebviewView> {
  /** The entries of the last listing, by key: what the page may act on. */
  private shown = new Map<string, GalleryEntry>();

  protected readonly requests: RequestHandlers<GalleryParams, GalleryResults> = {
    list: (filter) => this.list(filter),
    act: ({ key, action }) => this.act(key, action),
  };
  protected readonly notifications: NotificationHandlers<never> = {};

  constructor(
    view: vscode.WebviewView,
    private readonly deps: GalleryDeps,
    onDispose: () => void,
  ) {
    super(view, { name: 'Gallery', log: deps.log, schema: GalleryPageMessage, onDispose });
    this.loadPage();
  }

  /** The page asks for its list again. */
  changed(): void {
    this.post({ type: 'changed' });
  }

  private async list(filter: GalleryParams['list']): Promise<GalleryResults['list']> {
    const records = workspaceRecords(this.deps.tasks.all());
    const folders = galleryFolders(records);
    const all = await collectGallery(records, folders);
    const entries = filterGallery(all, filter);
    this.shown = new Map(entries.map((e) => [e.key, e]));
    const cards: GalleryCard[] = [];
    for (const [i, e] of entries.entries()) {
      const poster = this.deps.posters.iconOf(e.file, i < POSTERS_PER_LIST);
      cards.push({
        key: e.key,
        title: e.prompt || basename(e.file),
        fileName: basename(e.file),
        video: this.media.link(e.file),
        ...(poster ? { poster: this.media.link(poster.fsPath) } : {}),
        mode: e.mode,
        madeAt: e.madeAt,
        bytes: e.bytes,
        rehearsal: e.rehearsal,
        ...(e.durationS !== undefined ? { durationS: e.durationS } : {}),
        ...(e.resolution ? { resolution: e.resolution } : {}),
        canContinue: true,
      });
    }
    return { cards, total: all.length };
  }

  private async act(key: string, action: GalleryParams['act']['action']): Promise<GalleryResults['act']> {
    const entry = this.shown.get(key);
    if (!entry) throw new UserError(vscode.l10n.t('That video is no longer in the gallery.'));
    const uri = vscode.Uri.file(entry.file);
    switch (action) {
      case 'play':
        await vscode.commands.executeCommand(CommandIds.playVideo, uri);
        return { done: true };
      case 'reveal':
        await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri);
        return { done: true };
      case 'continue':
        await vscode.commands.executeCommand(CommandIds.continueVideo, uri);
        return { done: true };
      case 'delete':
        return { done: (await vscode.commands.executeCommand<boolean>(CommandIds.deleteVideo, uri)) === true };
    }
  }

  protected html(): string {
    const body = '<main id="app" aria-busy="true"></main>';
    return pageHtml(this.deps.extensionUri, { page: 'gallery', title: vscode.l10n.t('Gallery'), body });
  }

  protected greet(): void {
    this.post({ type: 'init', labels: labels(), locale: vscode.env.language });
  }

  protected replyMessage(reply: Reply<GalleryResults[keyof GalleryResults]>): GalleryHostMessage {
    return reply;
  }

  protected refusal(error: unknown): { error: string } {
    return this.messageRefusal(error);
  }
}

export class GalleryViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private page: GalleryPage | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly deps: GalleryDeps) {
    // A saved or removed video, or a poster made, changes the list (told at most every half second).
    this.subscriptions.push(deps.tasks.onDidChange(() => this.refresh()), deps.posters.onDidMake(() => this.refresh()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.page?.dispose();
    this.page = new GalleryPage(view, this.deps, () => (this.page = undefined));
  }

  refresh(): void {
    if (!this.page || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.page?.changed();
    }, 500);
  }

  /** The page's host, once the view was shown (for tests). */
  get host(): { whenReady(): Promise<void>; receive(raw: unknown): Promise<unknown> } | undefined {
    return this.page;
  }

  /** What the Gallery would list now, whether or not it is shown. */
  entries(): Promise<GalleryEntry[]> {
    const records = workspaceRecords(this.deps.tasks.all());
    return collectGallery(records, galleryFolders(records));
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const s of this.subscriptions) s.dispose();
    this.page?.dispose();
  }
}
