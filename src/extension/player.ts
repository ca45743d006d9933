// The video player panel: one WebviewPanel per file, showing it in a <video controls> element with what is
// known about it (sidecar or task record) and its actions. Sound: desktop VS Code's webviews cannot decode
// AAC, so when the page reports that it cannot, the panel switches to an MP3-audio preview copy made on the
// host (src/preview/), and when no sound can be played at all it says so.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WebviewHost } from './webviews/host';
import { escapeAttr, pageHtml } from './webviews/pageHtml';
import { readVideoFacts, type FactsResult } from '../player/facts';
import { decodeFramePng, writeFrameBeside } from '../player/frame';
import { makeAudioPreview, PreviewError } from '../preview/audioPreview';
import {
  CapturedFrame,
  PlayerPageMessage,
  type AudioReportMessage,
  type HostToWebviewMessage,
  type LoadMessage,
  type NoticeMessage,
  type PlayerAction,
  type PlaySource,
  type VideoMetadata,
  type WebviewToHostMessage,
} from '../protocol/player';
import { notifyHandler, type NotificationHandlers } from '../protocol/rpc';
import type { TaskRecord } from '../tasks/record';
import { probeVideo, type VideoInfo } from '../wan/media/video';
import { playerFacts, playerLabels } from './playerFacts';
import { continueVideo, copyPrompt, generateAgain, offerFrame, openInSystemPlayer } from './playerActions';
import { StorageKeys, type TypedState } from './storage';

import { PLAYER_VIEW_TYPE } from './viewIds';
export { PLAYER_VIEW_TYPE };

/** `wanStudio.player.soundPreview`: when to play an MP3-audio copy instead of the file. */
export type SoundPreviewSetting = 'auto' | 'always' | 'never';

/** What `wanStudio.playVideo` resolves to: enough for automation and tests to follow the panel. */
export interface PlayerHandle {
  readonly panel: vscode.WebviewPanel;
  readonly viewType: string;
  readonly title: string;
  readonly file: vscode.Uri;
  /** True when an existing panel for the same file was revealed instead of a new one opened. */
  readonly reused: boolean;
  /**
   * Resolves with the first metadata the webview reports; rejects if the webview reports a media error
   * first or the panel closes before any metadata arrived.
   */
  readonly metadata: Promise<VideoMetadata>;
  /** The last `load` sent to the page (what it shows), and the last notice. */
  lastLoad(): LoadMessage | undefined;
  /** The file behind a `load`'s `src` (a reference the page asks the host's bytes of). */
  fileOf(src: string): string | undefined;
  lastNotice(): NoticeMessage | undefined;
  /** The audio report about `source` received so far, else asks the page to measure now (if it plays that source). */
  audioReport(source: PlaySource): Promise<AudioReportMessage>;
  /** Handles a message exactly as if the page had sent it (validation included). */
  deliver(raw: unknown): Promise<void>;
  /** Asks the page for the frame at `at` seconds; resolves with the PNG written beside the video. */
  captureFrame(at?: number): Promise<vscode.Uri>;
}



export interface PlayerContext {
  extensionUri: vscode.Uri;
  /** Where sound previews are cached (the extension's global storage). */
  previewDir: vscode.Uri;
  /** Remembers whether this kind of window decodes AAC (global state). */
  state: TypedState;
  log: vscode.LogOutputChannel;
}

const aacKey = () => StorageKeys.decodesAac(vscode.env.appHost, vscode.env.uiKind, vscode.version);

type PlayerNotification = Exclude<WebviewToHostMessage, { type: 'ready' }>;

/** The player asks the host nothing: its page's messages are notifications, and replies to `captureFrame`. */
type NoRequests = Record<never, never>;

export class PlayerPanel extends WebviewHost<NoRequests, NoRequests, WebviewToHostMessage, HostToWebviewMessage> {
  private settle!: { resolve: (m: VideoMetadata) => void; reject: (e: Error) => void };
  private settled = false;
  readonly metadata: Promise<VideoMetadata>;
  lastMetadata: VideoMetadata | undefined;
  /** Its tab's title as opened (kept: a closed panel can no longer be asked). */
  private readonly title: string;
  /** The player put in a new panel in this one's place (its page stayed blank). */
  replacedBy: PlayerPanel | undefined;

  private facts: FactsResult = { facts: undefined, from: 'none' };
  private info: VideoInfo | null | undefined;
  private source: PlaySource = 'original';
  private previewFile: vscode.Uri | undefined;
  private previewing = false;
  private load: LoadMessage | undefined;
  private notice: NoticeMessage | undefined;
  private readonly reports = new Map<PlaySource, AudioReportMessage>();
  private readonly reportWaiters: { source: PlaySource; resolve: (m: AudioReportMessage) => void }[] = [];
  protected readonly requests = {};

  constructor(
    panel: vscode.WebviewPanel,
    readonly file: vscode.Uri,
    private readonly ctx: PlayerContext,
    readonly record: TaskRecord | undefined,
    onDispose: () => void,
    recreate?: () => boolean,
  ) {
    super(panel, { name: 'Player', log: ctx.log, schema: PlayerPageMessage, onDispose, recreate });
    this.title = panel.title;
    this.metadata = new Promise<VideoMetadata>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody has to wait for the metadata; don't let an unobserved rejection surface.
    this.metadata.catch(() => undefined);
    this.loadPage();
  }

  protected html(): string {
    // `data-file`: the page keeps it with setState, so the serializer reopens the same video after a reload.
    const body = `<main data-file="${escapeAttr(this.file.fsPath)}">
  <h1 id="title"></h1>
  <video id="video" controls preload="auto"></video>
  <div id="notice" role="status" hidden><span id="notice-text"></span> <vscode-button id="notice-open" secondary hidden></vscode-button></div>
  <p id="status" role="status"></p>
  <div id="actions" class="actions">
    <vscode-button id="use-frame"></vscode-button>
    <vscode-button id="continue" secondary></vscode-button>
    <vscode-button id="generate-again" secondary></vscode-button>
    <vscode-button id="copy-prompt" secondary></vscode-button>
    <vscode-button id="open-system" secondary></vscode-button>
    <vscode-button id="reveal" secondary></vscode-button>
  </div>
  <dl id="details"></dl>
  <h2 id="facts-title" hidden></h2>
  <dl id="facts"></dl>
</main>`;
    return pageHtml(this.ctx.extensionUri, { page: 'player', title: path.basename(this.file.fsPath), body });
  }

  protected override post(message: HostToWebviewMessage): void {
    if (message.type === 'load') this.load = message;
    if (message.type === 'notice') this.notice = message;
    super.post(message);
  }

  protected greet(message: Extract<WebviewToHostMessage, { type: 'ready' }>): Promise<void> {
    return this.start(message.canPlayAac);
  }

  protected replyMessage(): undefined {
    return undefined;
  }

  protected refusal(error: unknown): { error: string } {
    return { error: error instanceof Error ? error.message : String(error) };
  }

  protected override notify(message: PlayerNotification): void | Promise<void> {
    return notifyHandler(this.notifications, message.type, message);
  }

  protected readonly notifications: NotificationHandlers<PlayerNotification> = {
    metadata: (message) => {
        const { width, height, duration } = message;
        this.lastMetadata = { width, height, duration };
        this.log.info(`Player: ${this.file.fsPath} is ${width}x${height}, ${duration.toFixed(2)} s`);
        if (!this.settled) {
          this.settled = true;
          this.settle.resolve(this.lastMetadata);
        }
    },
    mediaError: (message) => {
        this.log.warn(`Player: cannot play ${this.file.fsPath} (${this.source}): ${message.message}`);
        if (!this.settled) {
          this.settled = true;
          this.settle.reject(new Error(message.message));
        }
    },
    audioReport: (message) => this.onAudioReport(message),
    action: (message) => this.onAction(message.action, message.seed),
    frame: async ({ type: _, ...frame }) => {
      await this.onFrame(frame, false);
    },
    frameError: (message) => {
      this.log.warn(`Player: the frame could not be captured: ${message.message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('The frame could not be captured: {0}', message.message));
    },
  };

  private soundSetting(): SoundPreviewSetting {
    return vscode.workspace.getConfiguration('wanStudio.player').get<SoundPreviewSetting>('soundPreview', 'auto');
  }

  /** First `ready` (and every webview reload): read the facts and the file's tracks, then load. */
  private async start(canPlayAac: string | undefined): Promise<void> {
    this.log.trace(`Player: page ready for ${this.file.fsPath}`);
    this.reports.clear();
    [this.facts, this.info] = await Promise.all([
      readVideoFacts(this.file.fsPath, this.record),
      probeVideo(this.file.fsPath).catch((e: Error) => {
        this.log.warn(`Player: cannot probe ${this.file.fsPath}: ${e.message}`);
        return undefined;
      }),
    ]);
    if (this.facts.from === 'none' && this.facts.problem) this.log.warn(`Player: the sidecar of ${this.file.fsPath} was not used: ${this.facts.problem}`);
    if (this.disposed) return;
    if (this.previewFile) return this.sendLoad('preview');
    // When the copy is needed, it is made before anything loads: switching sources mid-load aborts a webview
    // resource request, which (code-server 4.100) can stall the next webview's loads for 30 s.
    const setting = this.soundSetting();
    const codec = this.info?.audio?.codec;
    if (codec && codec !== 'mp3' && setting === 'always') return this.switchToPreview('the setting wanStudio.player.soundPreview is "always"', true);
    if (codec === 'aac' && setting === 'auto' && canPlayAac === '') return this.switchToPreview('the page says it cannot play AAC');
    if (codec === 'aac' && setting === 'auto' && this.ctx.state.get(aacKey()) === false) {
      return this.switchToPreview('an earlier video showed that this window does not decode AAC');
    }
    await this.sendLoad('original');
    if (this.info && !this.info.audio) await this.sendNotice('warning', vscode.l10n.t('This video has no sound track.'), true);
  }

  private async onAudioReport(report: AudioReportMessage): Promise<void> {
    this.log.info(
      `Player: audio of the ${report.source} (${report.via}): ${report.result}, ${report.audioBytes} audio / ${report.videoBytes} video bytes decoded, canPlayType(AAC) = "${report.canPlayAac}"`,
    );
    if (report.result !== 'unknown' || !this.reports.has(report.source)) this.reports.set(report.source, report);
    if (report.source === 'original' && report.result !== 'unknown' && this.info?.audio?.codec === 'aac') {
      await this.ctx.state.update(aacKey(), report.result === 'decoded');
    }
    for (const w of this.reportWaiters.filter((x) => x.source === report.source)) {
      this.reportWaiters.splice(this.reportWaiters.indexOf(w), 1);
      w.resolve(report);
    }
    if (report.source !== this.source || report.result !== 'silent') {
      if (report.source === 'preview' && report.result === 'decoded' && this.source === 'preview') {
        await this.sendNotice('info', this.previewNotice(this.info?.audio?.codec ?? 'aac', this.soundSetting() === 'always'), false);
      }
      return;
    }
    // Video decoded, sound not.
    if (this.info && !this.info.audio) return; // already said: no sound track
    if (report.source === 'preview') {
      await this.sendNotice('warning', vscode.l10n.t('No sound can be played in this window, not even from the MP3 copy.'), true);
      return;
    }
    if (this.soundSetting() === 'never') {
      await this.sendNotice('warning', vscode.l10n.t('This window cannot decode the sound of this video ({0}), and sound previews are turned off (wanStudio.player.soundPreview).', this.info?.audio?.codec ?? '?'), true);
      return;
    }
    await this.switchToPreview(`this window cannot decode its ${this.info?.audio?.codec ?? '?'} audio`);
  }

  /** Makes (or reuses) the MP3-audio copy and plays it; says so when that fails. `why` is for the log. */
  private async switchToPreview(why: string, bySetting = false): Promise<void> {
    if (this.previewing || this.source === 'preview') return;
    this.previewing = true;
    try {
      await this.sendNotice('info', vscode.l10n.t('Preparing a copy with playable sound…'), false);
      this.log.info(`Player: making a sound preview of ${this.file.fsPath}: ${why}`);
      const preview = await makeAudioPreview({ file: this.file.fsPath, cacheDir: this.ctx.previewDir.fsPath });
      this.log.info(
        `Player: sound preview ${preview.cached ? 'reused' : `made in ${preview.elapsedMs} ms`}: ${preview.path} (${preview.bytes} bytes, ${preview.sourceCodec} → mp3)`,
      );
      if (this.disposed) return;
      this.previewFile = vscode.Uri.file(preview.path);
      await this.sendLoad('preview');
      await this.sendNotice('info', this.previewNotice(preview.sourceCodec, bySetting), false);
    } catch (e) {
      if (!this.load && !this.disposed) await this.sendLoad('original'); // nothing shown yet: play the original
      const reason = e instanceof PreviewError && e.reason === 'no-audio' ? vscode.l10n.t('This video has no sound track.') : vscode.l10n.t('No sound can be played here: the sound copy could not be made ({0}).', (e as Error).message);
      this.log.warn(`Player: sound preview of ${this.file.fsPath} failed: ${(e as Error).message}`);
      if (!this.disposed) await this.sendNotice('warning', reason, true);
    } finally {
      this.previewing = false;
    }
  }

  private previewNotice(codec: string, bySetting: boolean): string {
    return bySetting
      ? vscode.l10n.t('Playing a copy with MP3 sound, as the setting wanStudio.player.soundPreview asks. The original file is unchanged.')
      : vscode.l10n.t('Playing a copy with MP3 sound: this window cannot decode the original\'s {0} audio. The original file is unchanged.', codec.toUpperCase());
  }

  private async sendNotice(level: NoticeMessage['level'], text: string, openSystem: boolean): Promise<void> {
    if (this.disposed) return;
    this.post({ type: 'notice', level, text, openSystem });
  }

  private async sendLoad(source: PlaySource): Promise<void> {
    const target = source === 'preview' && this.previewFile ? this.previewFile : this.file;
    let bytes = 0;
    try {
      bytes = (await vscode.workspace.fs.stat(this.file)).size;
    } catch (error) {
      this.log.warn(`Player: cannot stat ${this.file.fsPath}: ${String(error)}`);
    }
    if (this.disposed) return;
    this.source = source;
    const facts = this.facts.facts;
    this.log.trace(`Player: loading the ${source} of ${this.file.fsPath}`);
    this.post({
      type: 'load',
      src: this.media.link(target.fsPath),
      source,
      title: path.basename(this.file.fsPath),
      bytes,
      locale: vscode.env.language,
      labels: playerLabels(),
      facts: playerFacts(facts, vscode.env.language),
      enabled: { copyPrompt: !!(facts?.prompt || facts?.orig_prompt), generateAgain: !!facts },
    });
    // Someone is waiting to know whether this source's sound is decoded: measure it now.
    if (this.reportWaiters.some((w) => w.source === source)) this.post({ type: 'checkAudio' });
  }

  private async onAction(action: PlayerAction, seed?: 'same' | 'new'): Promise<void> {
    const facts = this.facts.facts;
    switch (action) {
      case 'openSystem':
        return openInSystemPlayer(this.file, this.log);
      case 'reveal':
        await vscode.commands.executeCommand('revealInExplorer', this.file);
        return;
      case 'copyPrompt':
        await copyPrompt(facts);
        return;
      case 'generateAgain':
        await generateAgain(facts, seed, this.log);
        return;
      case 'continue':
        await continueVideo(this.file, facts, this.log);
        return;
    }
  }

  /** Writes a frame beside the video and offers it. `asked`: the host asked for it (it throws, no message). */
  private async onFrame({ time, width, height, pngBase64: base64 }: CapturedFrame, asked: boolean): Promise<vscode.Uri | undefined> {
    try {
      // The video's size and length as the host measured them, never as the page reports them.
      if (!this.info?.width || !this.info.height) throw new Error(vscode.l10n.t('the size of the video could not be read, so the frame cannot be checked'));
      const png = await decodeFramePng(base64, width, height, this.info, time);
      const written = vscode.Uri.file(await writeFrameBeside(this.file.fsPath, time, png));
      this.log.info(`Player: saved the frame at ${time.toFixed(3)} s (${width}x${height}) as ${written.fsPath}`);
      void offerFrame(written, this.log);
      return written;
    } catch (e) {
      this.log.warn(`Player: refused a frame: ${(e as Error).message}`);
      if (asked) throw e;
      void vscode.window.showErrorMessage(vscode.l10n.t('The frame could not be saved: {0}', (e as Error).message));
      return undefined;
    }
  }

  handleFor(reused: boolean): PlayerHandle {
    return {
      panel: this.panel,
      viewType: PLAYER_VIEW_TYPE,
      title: this.title,
      file: this.file,
      reused,
      metadata: this.metadata,
      lastLoad: () => this.load,
      fileOf: (src) => this.media.fileOf(src),
      lastNotice: () => this.notice,
      audioReport: (source) => {
        const known = this.reports.get(source);
        if (known) return Promise.resolve(known);
        const next = new Promise<AudioReportMessage>((resolve) => this.reportWaiters.push({ source, resolve }));
        if (this.source === source) this.post({ type: 'checkAudio' });
        return next;
      },
      deliver: async (raw) => {
        await this.receive(raw);
      },
      captureFrame: async (at) => {
        const params = at !== undefined ? { at } : {};
        const frame = await this.ask('captureFrame', (id) => ({ type: 'request', id, method: 'captureFrame', params }), CapturedFrame);
        const written = await this.onFrame(frame, true);
        if (!written) throw new Error('The frame was not saved.');
        return written;
      },
    };
  }

  /** Put in a new panel (its page stayed blank): whoever waits for the metadata gets the new page's. */
  override handOver(next: PlayerPanel): void {
    super.handOver(next);
    this.replacedBy = next;
    if (this.settled) return;
    this.settled = true;
    next.metadata.then(this.settle.resolve, this.settle.reject);
  }

  override dispose(): void {
    if (!this.disposed && !this.settled) {
      this.settled = true;
      this.settle.reject(new Error('The player was closed before the video loaded.'));
    }
    super.dispose();
  }
}
