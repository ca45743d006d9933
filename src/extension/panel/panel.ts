// The generation panel's host side: one WebviewPanel, its message dispatch, and the tasks it follows.
import { randomInt } from 'node:crypto';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { PROMPT_MAX_CHARS, NEGATIVE_PROMPT_MAX_CHARS, SEED_MAX, WanValidationError } from '../../wan';
import type { TaskRecord } from '../../tasks/record';
import {
  DraftSchema,
  MODE_SLOTS,
  OPTIONAL_SLOTS,
  parsePageMessage,
  type Draft,
  type DraftInput,
  type HostMessage,
  type Issue,
  type Method,
  type PageMessage,
  type PageRequest,
  type ParamsOf,
  type ReplyMessage,
  type Results,
  type TaskView,
  type Validation,
} from '../../protocol/generate';
import { CommandIds } from '../commands/ids';
import { DraftChecker, issuesOf, requestsOf } from './check';
import type { DraftBackup } from './draftBackup';
import { adviceFor, adviceForError } from './errors';
import { openSettingsAt } from '../settings';
import { pageHtml } from '../webviews/pageHtml';
import { generatorLabels } from './labels';
import { pickSources } from './pick';
import { placeFiles } from './prefill';
import type { GenerationTasks } from './taskLayer';

export const GENERATOR_VIEW_TYPE = 'wanStudio.generator';

/** What the page keeps with setState, and the serializer hands back after a reload. */
export interface PanelState {
  draft?: unknown;
  taskIds?: unknown;
}

export interface PanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  tasks: GenerationTasks;
  checker: DraftChecker;
  /** Remembers the last seed across windows. */
  memento: vscode.Memento;
  backup: DraftBackup;
}

const LAST_SEED_KEY = 'wanStudio.lastSeed';
const READY_TIMEOUT_MS = 5000;
const READY_RELOADS = 3;

/** Local resource roots: the bundles, and every workspace folder (thumbnails, players, results). */
export function resourceRoots(extensionUri: vscode.Uri, extra: readonly vscode.Uri[] = []): vscode.Uri[] {
  return [
    vscode.Uri.joinPath(extensionUri, 'dist'),
    vscode.Uri.joinPath(extensionUri, 'media'),
    ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri),
    ...extra,
  ];
}

function viewOf(r: TaskRecord, webview: vscode.Webview): TaskView {
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
    endedAt: r.state === 'succeeded' || ended ? r.updatedAt : undefined,
    seed: r.request.seed,
    outputSize: r.outputSize,
    video: file ? webview.asWebviewUri(vscode.Uri.file(file)).toString() : undefined,
    file,
    error: error && { message: error.message, hint: error.hint, actions: error.actions },
    note: waiting,
  };
}

export class GeneratorPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly outbox: HostMessage[] = [];
  private readonly followed = new Set<string>();
  private readonly lastViews = new Map<string, string>();
  private readonly extraRoots: vscode.Uri[] = [];
  private disposed = false;
  private readyWaiters: (() => void)[] = [];
  private readyTimer: NodeJS.Timeout | undefined;
  draft: Draft;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly deps: PanelDeps,
    state: PanelState | undefined,
    onDispose: () => void,
  ) {
    const parsed = DraftSchema.safeParse(state?.draft ?? {});
    this.draft = parsed.success ? parsed.data : DraftSchema.parse({});
    if (Array.isArray(state?.taskIds)) for (const id of state.taskIds) if (typeof id === 'string') this.followed.add(id);

    panel.webview.options = { enableScripts: true, localResourceRoots: resourceRoots(deps.extensionUri) };
    // Listen before the HTML is set, so the first `ready` is never missed.
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidChangeViewState(() => {
        // A hidden webview is torn down; hold messages until the reloaded page says ready again.
        this.deps.log.debug(`Generator: visible ${panel.visible}`);
        if (!panel.visible) this.ready = false;
        else this.watchReady();
      }),
      deps.tasks.onDidChange(() => this.pushTasks()),
      panel.onDidDispose(() => {
        onDispose();
        this.dispose();
      }),
    );
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'icon.svg');
    this.load();
  }

  private load(): void {
    this.panel.webview.html = this.html();
    this.watchReady();
  }

  /**
   * A webview shown again right after it was hidden sometimes never runs its script (seen in code-server:
   * the page stays blank). If the page hasn't said ready in time, load it again, a few times at most.
   */
  private watchReady(attempt = 1): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => {
      this.readyTimer = undefined;
      if (this.ready || this.disposed || !this.panel.visible) return;
      if (attempt > READY_RELOADS) {
        this.deps.log.warn('Generator: the page did not load; close and reopen the panel.');
        return;
      }
      this.deps.log.warn(`Generator: the page did not say ready within ${READY_TIMEOUT_MS / 1000} s; loading it again.`);
      this.panel.webview.html = this.html();
      this.watchReady(attempt + 1);
    }, READY_TIMEOUT_MS);
  }

  /** Resolves once the page has said ready (at once when it already has). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private keep(): void {
    this.deps.backup.save({ draft: this.draft, taskIds: [...this.followed] });
  }

  /** Fills the form (a prefill from a command); the page gets it now or when it is ready. */
  fill(draft: Draft): void {
    this.draft = draft;
    this.keep();
    this.allowFolders(draft);
    this.post({ type: 'prefill', draft });
  }

  private post(message: HostMessage): void {
    if (this.disposed) return;
    if (!this.ready) {
      // Only the latest prefill matters; replies and task updates are all kept.
      if (message.type === 'prefill') {
        const i = this.outbox.findIndex((m) => m.type === 'prefill');
        if (i >= 0) this.outbox.splice(i, 1);
      }
      this.outbox.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  /** Handles one raw message from the page; returns the reply it sent (for requests). Never throws. */
  async receive(raw: unknown): Promise<ReplyMessage | undefined> {
    const parsed = parsePageMessage(raw);
    if (!parsed.ok) {
      this.deps.log.warn(`Generator: refused a malformed message from the page: ${parsed.error}`);
      const id = raw && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'number' && Number.isInteger(raw.id) ? raw.id : undefined;
      if (id === undefined) return undefined;
      const reply: ReplyMessage = { type: 'reply', id, ok: false, error: vscode.l10n.t('The panel sent a message the extension cannot accept.') };
      this.post(reply);
      return reply;
    }
    try {
      return await this.handle(parsed.message);
    } catch (error) {
      this.deps.log.error(`Generator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return undefined;
    }
  }

  private async handle(message: PageMessage): Promise<ReplyMessage | undefined> {
    switch (message.type) {
      case 'ready':
        this.onReady();
        return undefined;
      case 'draft':
        this.draft = message.draft;
        this.keep();
        return undefined;
      case 'request':
        return this.answer(message);
    }
  }

  private onReady(): void {
    this.deps.log.debug('Generator: the page is ready.');
    this.ready = true;
    const tasks = [...this.followed].map((id) => this.deps.tasks.get(id)).filter((r): r is TaskRecord => !!r);
    const init: HostMessage = {
      type: 'init',
      draft: this.draft,
      labels: generatorLabels(),
      locale: vscode.env.language,
      promptMax: PROMPT_MAX_CHARS,
      negativePromptMax: NEGATIVE_PROMPT_MAX_CHARS,
      modeSlots: MODE_SLOTS,
      optionalSlots: OPTIONAL_SLOTS,
      tasks: tasks.map((r) => viewOf(r, this.panel.webview)),
    };
    void this.panel.webview.postMessage(init);
    // The init carries the draft, so an older queued prefill is already in it.
    for (const m of this.outbox.splice(0)) if (m.type !== 'prefill') void this.panel.webview.postMessage(m);
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private async answer(request: PageRequest): Promise<ReplyMessage> {
    let reply: ReplyMessage;
    try {
      const result = await this.run(request.method, request.params);
      reply = { type: 'reply', id: request.id, ok: true, result };
    } catch (error) {
      if (error instanceof PanelRefusal) {
        reply = { type: 'reply', id: request.id, ok: false, error: error.message, issues: error.issues, actions: error.actions };
      } else {
        const advice = adviceForError(error);
        this.deps.log.warn(`Generator: ${request.method} failed: ${advice.message}`);
        reply = { type: 'reply', id: request.id, ok: false, error: [advice.message, advice.hint].filter(Boolean).join(' '), actions: advice.actions };
      }
    }
    this.post(reply);
    return reply;
  }

  private async run<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
    const p = params;
    switch (method) {
      case 'validate':
        return (await this.validate((p as ParamsOf<'validate'>).draft)) as Results[M];
      case 'pick': {
        const { slot, via } = p as ParamsOf<'pick'>;
        const values = await pickSources(slot, via);
        for (const v of values) this.allowFile(v);
        return { values } as Results[M];
      }
      case 'drop': {
        const { slot, uris, draft } = p as ParamsOf<'drop'>;
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
        this.allowFolders(placed.draft);
        return placed as Results[M];
      }
      case 'generate':
        return { tasks: await this.generate((p as ParamsOf<'generate'>).draft) } as Results[M];
      case 'seed': {
        const { which } = p as ParamsOf<'seed'>;
        const last = this.deps.memento.get<number>(LAST_SEED_KEY);
        return { seed: which === 'random' ? String(randomInt(0, SEED_MAX)) : last === undefined ? undefined : String(last) } as Results[M];
      }
      case 'action': {
        const { action, taskId } = p as ParamsOf<'action'>;
        await this.act(action, taskId);
        return { done: true } as Results[M];
      }
      case 'open': {
        const { taskId, how } = p as ParamsOf<'open'>;
        const file = this.deps.tasks.get(taskId)?.save?.file;
        if (!file) return { done: false } as Results[M];
        await vscode.commands.executeCommand(how === 'player' ? CommandIds.playVideo : 'revealInExplorer', vscode.Uri.file(file));
        return { done: true } as Results[M];
      }
    }
    throw new Error(`unknown method ${String(method)}`);
  }

  /** The core's verdict on a draft, with previews the page may load. */
  async validate(input: DraftInput): Promise<Validation> {
    const draft = DraftSchema.parse(input);
    this.draft = draft;
    this.allowFolders(draft);
    const result = await this.deps.checker.check(draft);
    const webview = this.panel.webview;
    const preview = (source: string) => webview.asWebviewUri(vscode.Uri.file(source)).toString();
    for (const probe of [...Object.values(result.probes), ...result.batchProbes]) {
      if (probe && !probe.isUrl && probe.format) probe.preview = preview(probe.source);
    }
    return result;
  }

  /** Hands the draft to the task layer (one task per batch image) and follows the tasks. */
  async generate(input: DraftInput): Promise<TaskView[]> {
    const draft = DraftSchema.parse(input);
    const checked = await this.validate(draft);
    if (!checked.canGenerate) {
      throw new PanelRefusal(vscode.l10n.t('Fix the marked fields first.'), checked.issues.filter((i) => i.severity === 'error'));
    }
    // An empty seed means random: pick it here, so "reuse the last seed" can always bring it back.
    const seed = draft.seed.trim() === '' ? randomInt(0, SEED_MAX) : Number(draft.seed.trim());
    const views: TaskView[] = [];
    for (const request of requestsOf(draft, seed)) {
      let record: TaskRecord;
      try {
        record = await this.deps.tasks.submit(request);
      } catch (error) {
        if (error instanceof WanValidationError) {
          throw new PanelRefusal(vscode.l10n.t('The request was refused before anything was sent.'), issuesOf(error, request));
        }
        throw error;
      }
      this.deps.log.info(`Generator: queued task ${record.id} (${request.firstFrame ?? request.firstClip ?? ''}).`);
      this.followed.add(record.id);
      views.push(viewOf(record, this.panel.webview));
    }
    this.keep();
    await this.deps.memento.update(LAST_SEED_KEY, seed);
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
        const submitted = await this.deps.tasks.submit(record.request);
        this.followed.add(submitted.id);
        this.post({ type: 'task', task: viewOf(submitted, this.panel.webview) });
        return;
      }
    }
  }

  private html(): string {
    const body = '<main id="app" aria-busy="true"></main>';
    return pageHtml(this.panel.webview, this.deps.extensionUri, { page: 'generate', title: vscode.l10n.t('Generate Video'), body });
  }

  taskViews(): TaskView[] {
    return [...this.followed].map((id) => this.deps.tasks.get(id)).filter((r): r is TaskRecord => !!r).map((r) => viewOf(r, this.panel.webview));
  }

  private pushTasks(): void {
    for (const id of this.followed) {
      const r = this.deps.tasks.get(id);
      if (!r) continue;
      const view = viewOf(r, this.panel.webview);
      const text = JSON.stringify(view);
      if (this.lastViews.get(id) === text) continue;
      this.lastViews.set(id, text);
      this.post({ type: 'task', task: view });
    }
  }

  /** Files outside the workspace get their folder added to the roots, so their previews load. */
  private allowFolders(draft: Draft): void {
    for (const s of [draft.firstFrame, draft.lastFrame, draft.drivingAudio, draft.firstClip, ...draft.batch]) if (s) this.allowFile(s);
  }

  private allowFile(source: string): void {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^data:/i.test(source)) return;
    const file = vscode.Uri.file(source);
    if (vscode.workspace.getWorkspaceFolder(file)) return;
    const folder = vscode.Uri.file(dirname(source));
    if (this.extraRoots.some((r) => r.fsPath === folder.fsPath)) return;
    this.extraRoots.push(folder);
    this.panel.webview.options = { ...this.panel.webview.options, localResourceRoots: resourceRoots(this.deps.extensionUri, this.extraRoots) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
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
