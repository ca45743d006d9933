// The generation panel's host side: one WebviewPanel, its message dispatch, and the tasks it follows.
import { randomInt } from 'node:crypto';
import { dirname } from 'node:path';
import { isInsideFolder } from '../../tasks/insideFolder';
import * as vscode from 'vscode';
import { PROMPT_MAX_CHARS, NEGATIVE_PROMPT_MAX_CHARS, SEED_MAX } from '../../wan';
import { endedAt, type TaskRecord } from '../../tasks/record';
import {
  DraftSchema,
  MODE_SLOTS,
  OPTIONAL_SLOTS,
  type Draft,
  PageMessageSchema,
  type HostMessage,
  type Issue,
  type PageNotification,
  type Params,
  type ParamsOf,
  type RefusalDetails,
  type ReplyMessage,
  type Results,
  type TaskView,
  type Validation,
} from '../../protocol/generate';
import { notifyHandler, type NotificationHandlers, type RequestHandlers } from '../../protocol/rpc';
import { CommandIds } from '../commands/ids';
import { BudgetRefusal } from '../tasks/budget';
import { RequestRefused } from '../tasks/service';
import { DraftChecker, issuesOf, requestsOf } from './check';
import type { DraftBackup, PanelState } from './draftBackup';
import { adviceFor, adviceForError } from './errors';
import { MalformedMessage, WebviewHost } from '../webviews/host';
import { affectsWanStudio, openSettingsAt } from '../settings';
import { pageHtml } from '../webviews/pageHtml';
import { generatorLabels } from './labels';
import { pickSources } from './pick';
import { placeFiles } from './prefill';
import type { GenerationTasks } from './taskLayer';
import { StorageKeys, type TypedState } from '../storage';

export { GENERATOR_VIEW_TYPE } from '../viewIds';


export interface PanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  tasks: GenerationTasks;
  checker: DraftChecker;
  /** Remembers the last seed across windows. */
  memento: TypedState;
  backup: DraftBackup;
}

/** A path as the panel shows it: relative to its workspace folder (named when several are open), else as is. */
export function displayPath(source: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^data:/i.test(source)) return source;
  return vscode.workspace.asRelativePath(source, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
}

/** `link`: the reference under which the page may show a saved video (WebviewHost.media). */
function viewOf(r: TaskRecord, link: (file: string) => string): TaskView {
  const file = r.save?.state === 'saved' ? r.save.file : undefined;
  const ended = r.state === 'failed' || r.state === 'canceled' || r.state === 'unknown' || r.state === 'unresolved';
  const saveFailed = r.state === 'succeeded' && (r.save?.state === 'failed' || r.save?.state === 'expired');
  const error =
    ended || saveFailed
      ? adviceFor(r.state === 'unresolved' ? 'Unresolved' : r.code, r.message ?? r.save?.error ?? vscode.l10n.t('The task ended as {0}.', r.state))
      : undefined;
  // A request put back in the queue (throttled, or the network was down) says why while it waits.
  const waiting = r.state === 'queued' && r.message ? r.message : undefined;
  const prompt = r.request.prompt?.replace(/\s+/g, ' ').trim();
  const source = r.request.firstFrame ?? r.request.firstClip ?? '';
  return {
    id: r.id,
    label: prompt ? (prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt) : source.split(/[\\/]/).pop() || r.id,
    state: r.state,
    save: r.save?.state,
    requestedAt: r.requestedAt,
    startedAt: r.sentAt,
    endedAt: r.state === 'succeeded' || ended ? endedAt(r, r.updatedAt) : undefined,
    seed: r.request.seed,
    outputSize: r.outputSize,
    video: file ? link(file) : undefined,
    file,
    fileLabel: file ? displayPath(file) : undefined,
    error: error && { message: error.message, hint: error.hint, actions: error.actions },
    note: waiting,
  };
}

export class GeneratorPanel extends WebviewHost<Params, Results, PageNotification, HostMessage, RefusalDetails> {
  private readonly followed = new Set<string>();
  private readonly lastViews = new Map<string, string>();
  /** Folders outside the workspace whose files the page may preview: only ones the host's side chose. */
  private readonly shownFolders: string[] = [];
  draft: Draft;
  private readonly link = (file: string) => this.media.link(file);

  constructor(
    panel: vscode.WebviewPanel,
    private readonly deps: PanelDeps,
    state: PanelState | undefined,
    onDispose: () => void,
    recreate?: () => boolean,
  ) {
    super(panel, { name: 'Generator', log: deps.log, schema: PageMessageSchema, onDispose, recreate });
    const parsed = DraftSchema.safeParse(state?.draft ?? {});
    this.draft = parsed.success ? parsed.data : DraftSchema.parse({});
    if (Array.isArray(state?.taskIds)) for (const id of state.taskIds) if (typeof id === 'string') this.followed.add(id);

    this.disposables.push(
      deps.tasks.onDidChange(() => this.pushTasks()),
      // A verdict depends on the endpoint too (a rehearsal's clip, a region without the upload): the page asks again.
      vscode.workspace.onDidChangeConfiguration((e) => affectsWanStudio(e) && this.post({ type: 'recheck' })),
    );
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'icon.svg');
    this.loadPage();
  }

  /** What a panel that takes over from this one needs: the form and the tasks it follows. */
  state(): PanelState {
    return { draft: this.draft, taskIds: [...this.followed] };
  }

  private keep(): void {
    this.deps.backup.save(this.state());
  }

  /** Fills the form (a prefill from a command); the page gets it now or when it is ready. */
  fill(draft: Draft): void {
    this.draft = draft;
    this.keep();
    // The host's own entry points chose these files (an explorer selection, a player's video): they may be shown.
    this.allowFolders(draft);
    this.post({ type: 'prefill', draft });
  }

  /** The init carries the draft, so a prefill held until ready is already in it (and the page checks it then). */
  protected override stale(message: HostMessage): boolean {
    return message.type === 'prefill' || message.type === 'recheck';
  }

  protected readonly notifications: NotificationHandlers<Exclude<PageNotification, { type: 'ready' }>> = {
    draft: (message) => {
      this.draft = message.draft;
      this.keep();
    },
  };

  protected override notify(message: Exclude<PageNotification, { type: 'ready' }>): void | Promise<void> {
    return notifyHandler(this.notifications, message.type, message);
  }

  protected greet(): void {
    const tasks = [...this.followed].map((id) => this.deps.tasks.get(id)).filter((r): r is TaskRecord => !!r);
    for (const r of tasks) if (r.save?.state === 'saved' && r.save.file) this.allowFile(r.save.file);
    this.post({
      type: 'init',
      draft: this.draft,
      labels: generatorLabels(),
      locale: vscode.env.language,
      promptMax: PROMPT_MAX_CHARS,
      negativePromptMax: NEGATIVE_PROMPT_MAX_CHARS,
      modeSlots: MODE_SLOTS,
      optionalSlots: OPTIONAL_SLOTS,
      tasks: tasks.map((r) => viewOf(r, this.link)),
    });
  }

  protected replyMessage(reply: ReplyMessage): HostMessage {
    return reply;
  }

  protected refusal(error: unknown): { error: string } & RefusalDetails {
    if (error instanceof PanelRefusal) return { error: error.message, issues: error.issues, actions: error.actions };
    if (error instanceof MalformedMessage) return { error: error.message };
    const advice = adviceForError(error);
    this.log.warn(`Generator: a request failed: ${advice.message}`);
    return { error: [advice.message, advice.hint].filter(Boolean).join(' '), actions: advice.actions };
  }

  protected readonly requests: RequestHandlers<Params, Results> = {
    validate: ({ draft }) => this.validate(draft),
    pick: async ({ slot, via }) => {
      const values = await pickSources(slot, via);
      for (const v of values) this.allowFile(v);
      return { values };
    },
    drop: async ({ slot, uris, draft }) => {
      const paths = uris.map((u) => {
        try {
          const uri = vscode.Uri.parse(u, true);
          return uri.scheme === 'http' || uri.scheme === 'https' ? u : uri.fsPath;
        } catch {
          return u;
        }
      });
      const placed = placeFiles(draft, paths, slot);
      this.draft = placed.draft;
      // Only the dropped files may be shown, never other paths the page's draft names.
      for (const path of paths) if (!placed.refused.includes(path)) this.allowFile(path);
      return placed;
    },
    generate: async ({ draft }) => ({ tasks: await this.generate(draft) }),
    seed: async ({ which }) => {
      const last = this.deps.memento.get(StorageKeys.lastSeed);
      return { seed: which === 'random' ? String(randomInt(0, SEED_MAX)) : last === undefined ? undefined : String(last) };
    },
    action: async ({ action, taskId }) => {
      await this.act(action, taskId);
      return { done: true };
    },
    open: async ({ taskId, how }) => {
      const file = this.deps.tasks.get(taskId)?.save?.file;
      if (!file) return { done: false };
      await vscode.commands.executeCommand(how === 'player' ? CommandIds.playVideo : 'revealInExplorer', vscode.Uri.file(file));
      return { done: true };
    },
  };

  private verdict: Validation | undefined;

  /** The last verdict given (for tests: what the page was told). */
  get lastVerdict(): Validation | undefined {
    return this.verdict;
  }

  /** The core's verdict on a draft (parsed once, where it came in), with previews the page may load. */
  async validate(draft: Draft): Promise<Validation> {
    this.draft = draft;
    const result = await this.deps.checker.check(draft);
    this.verdict = result;
    // A preview only for what the roots already allow: the page's draft never widens them.
    for (const probe of [...Object.values(result.probes), ...result.batchProbes]) {
      if (!probe) continue;
      probe.display = displayPath(probe.source);
      if (!probe.isUrl && probe.format && this.mayShow(probe.source)) probe.preview = this.media.link(probe.source);
    }
    return result;
  }

  /** Hands the draft to the task layer (one task per batch image) and follows the tasks. */
  async generate(draft: Draft): Promise<TaskView[]> {
    const checked = await this.validate(draft);
    if (!checked.canGenerate) {
      throw new PanelRefusal(vscode.l10n.t('Fix the marked fields first.'), checked.issues.filter((i) => i.severity === 'error'));
    }
    // An empty seed means random: pick it here, so "reuse the last seed" can always bring it back.
    const seed = draft.seed.trim() === '' ? randomInt(0, SEED_MAX) : Number(draft.seed.trim());
    // The whole batch in one call: the spend caps see every task of it before any is queued.
    let records: TaskRecord[];
    try {
      records = await this.deps.tasks.submit(requestsOf(draft, seed));
    } catch (error) {
      if (error instanceof BudgetRefusal) throw new PanelRefusal(error.message, []);
      if (error instanceof RequestRefused) {
        throw new PanelRefusal(vscode.l10n.t('The request was refused before anything was sent.'), issuesOf(error, error.request));
      }
      throw error;
    }
    const views: TaskView[] = [];
    for (const record of records) {
      this.deps.log.info(`Generator: queued task ${record.id} (${record.request.firstFrame ?? record.request.firstClip ?? ''}).`);
      this.followed.add(record.id);
      views.push(viewOf(record, this.link));
    }
    this.keep();
    await this.deps.memento.update(StorageKeys.lastSeed, seed);
    return views;
  }

  private async act(action: ParamsOf<'action'>['action'], taskId?: string): Promise<void> {
    switch (action) {
      case 'setKey':
        await vscode.commands.executeCommand(CommandIds.setApiKey);
        return;
      case 'openSettings':
        await openSettingsAt('wanStudio'); // the Remote tab in a remote window: the endpoint settings are machine-scoped
        return;
      case 'showLog':
        await vscode.commands.executeCommand(CommandIds.showLog);
        return;
      case 'testConnection':
        await vscode.commands.executeCommand(CommandIds.testConnection);
        return;
      case 'retry': {
        const record = taskId ? this.deps.tasks.get(taskId) : undefined;
        if (!record) return;
        // A succeeded task whose save failed is saved again: its video exists and is paid for.
        if (record.state === 'succeeded') {
          await this.deps.tasks.retrySave(record.id);
          return;
        }
        // Only a request that ended without a task in progress is sent again, as a new task.
        if (record.state !== 'failed' && record.state !== 'canceled') return;
        let submitted: TaskRecord | undefined;
        try {
          [submitted] = await this.deps.tasks.submit([record.request]);
        } catch (error) {
          if (error instanceof BudgetRefusal) return; // the user kept to the cap, having seen the figures
          throw error;
        }
        if (!submitted) return;
        this.followed.add(submitted.id);
        this.post({ type: 'task', task: viewOf(submitted, this.link) });
        return;
      }
    }
  }

  protected html(): string {
    const body = '<main id="app" aria-busy="true"></main>';
    return pageHtml(this.deps.extensionUri, { page: 'generate', title: vscode.l10n.t('Generate Video'), body });
  }

  taskViews(): TaskView[] {
    return [...this.followed].map((id) => this.deps.tasks.get(id)).filter((r): r is TaskRecord => !!r).map((r) => viewOf(r, this.link));
  }

  private pushTasks(): void {
    for (const id of this.followed) {
      const r = this.deps.tasks.get(id);
      if (!r) continue;
      if (r.save?.state === 'saved' && r.save.file) this.allowFile(r.save.file); // its output folder
      const view = viewOf(r, this.link);
      const text = JSON.stringify(view);
      if (this.lastViews.get(id) === text) continue;
      this.lastViews.set(id, text);
      this.post({ type: 'task', task: view });
    }
  }

  /**
   * Files outside the workspace get their folder added to those the page may preview. Called only for files the
   * host's side chose (entry points, its pickers, drops, saved results), never for a page's draft.
   */
  private allowFolders(draft: Draft): void {
    for (const s of [draft.firstFrame, draft.lastFrame, draft.drivingAudio, draft.firstClip, ...draft.batch]) if (s) this.allowFile(s);
  }

  private allowFile(source: string): void {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^data:/i.test(source)) return;
    const file = vscode.Uri.file(source);
    if (vscode.workspace.getWorkspaceFolder(file)) return;
    const folder = vscode.Uri.file(dirname(source)).fsPath;
    if (!this.shownFolders.includes(folder)) this.shownFolders.push(folder);
  }

  private mayShow(source: string): boolean {
    const file = vscode.Uri.file(source);
    if (vscode.workspace.getWorkspaceFolder(file)) return true;
    return this.shownFolders.some((folder) => isInsideFolder(folder, file.fsPath));
  }
}

/** A refusal the page shows beside its fields (nothing was sent). */
export class PanelRefusal extends Error {
  constructor(
    message: string,
    readonly issues: Issue[],
    readonly actions: ParamsOf<'action'>['action'][] = [],
  ) {
    super(message);
  }
}
