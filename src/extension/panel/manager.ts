// Owns the one generation panel: opens or reveals it, fills it, and revives it after a reload.
import * as vscode from 'vscode';
import { DraftSchema, OpenGeneratorArgSchema, type Draft, type DraftInput, type ReplyMessage, type Slot, type TaskView, type Validation } from '../../protocol/generate';
import { choosesSomething, clipToMeasure, entryDraft } from '../../tasks/entryDraft';
import { probeVideo } from '../../wan';
import type { RehearsalSource } from '../../tasks/rehearsal';
import { readEndpoint } from '../settings';
import { DraftChecker } from './check';
import { GENERATOR_VIEW_TYPE, GeneratorPanel, type PanelDeps } from './panel';
import { PAGE_OPTIONS, RECREATE_EVERY_MS } from '../webviews/host';
import type { PanelState } from './draftBackup';
import type { GenerationTasks } from './taskLayer';

/** What `wanStudio.openGenerator` resolves to: enough for automation and tests to drive the host side. */
export interface GeneratorHandle {
  readonly panel: vscode.WebviewPanel;
  /** The form as the host knows it (the page reports every change). */
  draft(): Draft;
  /** Resolves when the page has loaded and said ready. */
  ready(): Promise<void>;
  /** The core's verdict on a draft (the host's copy when none is given), exactly as the page gets it. */
  validate(draft?: DraftInput): Promise<Validation>;
  /** The last verdict the host gave (the page's or this handle's request), if any. */
  lastVerdict(): Validation | undefined;
  /** What the Generate button does. */
  generate(draft?: DraftInput): Promise<TaskView[]>;
  /** The tasks this panel follows, as the page sees them. */
  tasks(): TaskView[];
  /** Feeds one raw message through the page's channel (validation, dispatch and reply). */
  receive(raw: unknown): Promise<ReplyMessage | undefined>;
}

function slotName(slot: Slot): string {
  switch (slot) {
    case 'firstFrame':
      return vscode.l10n.t('Choose a first frame: an image from the workspace, a file or a URL.');
    case 'lastFrame':
      return vscode.l10n.t('Choose a last frame: an image from the workspace, a file or a URL.');
    case 'drivingAudio':
      return vscode.l10n.t('Choose driving audio.');
    case 'firstClip':
      return vscode.l10n.t('Choose a first clip: an MP4 or MOV video from the workspace, a file or a URL.');
  }
}

/** The documented temporary upload exists in Beijing only: say so before a local file would need it. */
function uploadRegionWarning(): string | undefined {
  const setting = readEndpoint();
  if (!('endpoint' in setting)) return undefined;
  const kind = setting.endpoint.kind;
  if (kind !== 'singapore' && kind !== 'singapore-workspace') return undefined;
  return vscode.l10n.t(
    'This local file must be uploaded, and DashScope documents its temporary upload for the Beijing region only; from Singapore it may be refused. Use a public URL for it instead (URL…), or the Beijing endpoint.',
  );
}

/** A rehearsal's clip or frame sent to a paid endpoint: the model would get the emulator's stand-in, label and all. */
function rehearsalSourceWarning(kind: RehearsalSource): string | undefined {
  const setting = readEndpoint();
  if (!('endpoint' in setting) || setting.endpoint.kind === 'emulator') return undefined;
  return kind === 'clip'
    ? vscode.l10n.t('This clip is a rehearsal: the emulator made it, stamped REHEARSAL, not the Wan model. Continued on this endpoint, it is billed, and the model continues the stand-in, label and all.')
    : vscode.l10n.t('This image is a frame of a rehearsal video: the emulator made it, stamped REHEARSAL, not the Wan model. Sent to this endpoint, it is billed, and the model animates the stand-in, label and all.');
}

/** A clip's length, for a continuation's default duration; undefined when it cannot be read (the form says why). */
async function clipSeconds(clip: string | undefined): Promise<number | undefined> {
  if (!clip) return undefined;
  try {
    return (await probeVideo(clip))?.durationSeconds;
  } catch {
    return undefined;
  }
}

export class GeneratorManager implements vscode.Disposable {
  private current: GeneratorPanel | undefined;
  private readonly checker = new DraftChecker({ required: slotName, uploadRegion: uploadRegionWarning, rehearsalSource: rehearsalSourceWarning });
  private readonly registration: vscode.Disposable;

  /** `register`: the activation shell's, which registered the serializer before this part was loaded. */
  constructor(
    private readonly deps: Omit<PanelDeps, 'checker'>,
    register: (viewType: string, serializer: vscode.WebviewPanelSerializer) => vscode.Disposable = (t, s) => vscode.window.registerWebviewPanelSerializer(t, s),
  ) {
    this.registration = register(GENERATOR_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: PanelState | undefined) => {
        // The host's copy is at least as fresh as the page's state; the page's is the fallback.
        const kept = (await deps.backup.load()) ?? state ?? undefined;
        this.current?.dispose();
        this.current = this.adopt(panel, kept);
      },
    });
  }

  private adopt(panel: vscode.WebviewPanel, state: PanelState | undefined): GeneratorPanel {
    const created: GeneratorPanel = new GeneratorPanel(
      panel,
      { ...this.deps, checker: this.checker },
      state,
      () => {
        if (this.current === created) this.current = undefined;
      },
      () => this.recreate(created),
    );
    return created;
  }

  /** `preserveFocus`: a page put in a new panel does not take the keys from where the user is typing. */
  private newPanel(column: vscode.ViewColumn, preserveFocus = false): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(GENERATOR_VIEW_TYPE, vscode.l10n.t('Generate Video'), { viewColumn: column, preserveFocus }, PAGE_OPTIONS);
  }

  private lastRecreate = 0;

  /**
   * A page still blank after a reload (code-server's registration race, see WebviewHost.watchReady) gets a new
   * panel in the same place, with the same form and tasks; once a minute at most, so a page that cannot load
   * anywhere does not open panel after panel.
   */
  private recreate(old: GeneratorPanel): boolean {
    if (this.current !== old || Date.now() - this.lastRecreate < RECREATE_EVERY_MS) return false;
    this.lastRecreate = Date.now();
    const next = (this.current = this.adopt(this.newPanel(old.panel.viewColumn ?? vscode.ViewColumn.Active, !old.panel.active), old.state()));
    old.handOver(next);
    old.dispose();
    this.deps.log.warn('Generator: the page stayed blank after a reload; it was opened again in a new panel, with the form as it was.');
    return true;
  }

  /**
   * `wanStudio.openGenerator`: opens (or reveals) the panel with a fresh request holding only what the action
   * chose; the form's earlier inputs are not carried into it. An empty argument just shows the form as it is.
   */
  async open(arg: unknown, batch?: string[]): Promise<GeneratorHandle> {
    const parsed = OpenGeneratorArgSchema.safeParse(arg ?? {});
    if (!parsed.success) {
      this.deps.log.warn(`openGenerator: ignored an invalid argument: ${parsed.error.message}`);
    }
    const wanted = parsed.success ? parsed.data : {};
    const draft = choosesSomething(wanted, batch) ? entryDraft(wanted, { batch, clipSeconds: await clipSeconds(clipToMeasure(wanted)) }) : undefined;
    let panel = this.current;
    if (!panel) {
      panel = this.current = this.adopt(this.newPanel(vscode.ViewColumn.Active), {});
      this.deps.log.info('Generator: opened.');
    } else {
      panel.panel.reveal();
    }
    if (draft) panel.fill(draft);
    return this.handle(panel);
  }

  private handle(opened: GeneratorPanel): GeneratorHandle {
    // The panel now: a page put in a new panel (recreate) is the same generator to the holder of the handle.
    const p = () => this.current ?? opened;
    return {
      get panel() {
        return p().panel;
      },
      draft: () => p().draft,
      ready: () => p().whenReady(),
      // The handle is a way in like the page: what it is given is parsed here, once.
      validate: (draft) => p().validate(draft ? DraftSchema.parse(draft) : p().draft),
      lastVerdict: () => p().lastVerdict,
      generate: (draft) => p().generate(draft ? DraftSchema.parse(draft) : p().draft),
      receive: (raw) => p().receive(raw),
      tasks: () => p().taskViews(),
    };
  }

  dispose(): void {
    this.registration.dispose();
    this.current?.dispose();
  }
}

export type { GenerationTasks };
