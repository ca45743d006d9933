// Storyboards in the window: plans a board from its text (as the editor holds it, saved or not), sends its
// shots through the one submit path (spend caps, queue, records, auto-download, the Tasks view), and
// assembles its film beside it. The deciding is the core's (src/storyboard); this only gathers and wires.
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Board, BoardProblem } from '../../storyboard/board';
import { canUploadAudio, readAndPlan, type BoardReading } from '../../storyboard/facts';
import { assembleBoard } from '../../storyboard/film';
import type { MadeClip, Plan } from '../../storyboard/plan';
import { BoardNotReady, runBoard, type RunResult } from '../../storyboard/run';
import type { EndpointRef, TaskRecord } from '../../tasks/record';
import { SavedVideoIndex } from '../../tasks/sidecar';
import { isRehearsal } from '../../tasks/spend';
import { failureText } from '../../tasks/record';
import type { ConnectionFactory } from '../connection';
import type { PlayerManager } from '../playerManager';
import { StorageKeys, type TypedState } from '../storage';
import { outputFolders, placeRequest } from '../tasks/outputFolder';
import type { TaskService } from '../tasks/service';

/** A board's text read: its problems (a syntax error with line and column, a field with its path), or its plan. */
export type BoardPlanResult = { ok: false; problems: BoardProblem[] } | { ok: true; board: Board; plan: Plan; notes: string[] };

export interface StoryboardDeps {
  tasks: TaskService;
  connections: ConnectionFactory;
  players: PlayerManager;
  log: vscode.LogOutputChannel;
  /** Where continuations' clips and soundtrack slices are cut, until their tasks are created. */
  workDir: string;
  /** The workspace's state: which boards' Generate runs, so one cut short by a reload is told of. */
  runs?: TypedState;
}

export type ProgressReport = vscode.Progress<{ message?: string; increment?: number }>;

/** Generate was refused or a shot could not be made: the message is fit for the user. */
export class StoryboardError extends Error {
  override readonly name = 'StoryboardError';
}

export class StoryboardService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the task list changes (a shot queued, made or failed): an open editor plans again. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private readonly index = new SavedVideoIndex();

  /** Boards whose Generate was still running when this workspace's last window went (a reload, a crash, a close). */
  readonly interrupted: readonly string[];
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: StoryboardDeps) {
    this.subscription = d.tasks.onDidChange(() => this.changed.fire());
    this.interrupted = [...new Set(d.runs?.get(StorageKeys.storyboardRuns) ?? [])];
    if (this.interrupted.length > 0) void this.noteRun(() => []);
  }

  /** Runs are kept one change at a time: two boards generating at once must not lose each other's entry. */
  private noteRun(change: (runs: string[]) => string[]): Promise<unknown> {
    const runs = this.d.runs;
    if (!runs) return Promise.resolve();
    this.running = this.running.then(() => runs.update(StorageKeys.storyboardRuns, change(runs.get(StorageKeys.storyboardRuns) ?? []))).catch((e: unknown) => this.d.log.warn(`Storyboard runs not kept: ${String(e)}`));
    return this.running;
  }

  /** Plans the board whose file is `boardUri` and whose text (saved or not) is `text`. Pays nothing. */
  async plan(boardUri: vscode.Uri, text: string): Promise<BoardPlanResult> {
    const reading = await this.read(boardUri, text);
    return reading.ok ? { ok: true, board: reading.board, plan: reading.plan, notes: reading.plan.notes } : reading;
  }

  /**
   * Sends the shots that are not made or are outdated and resolves once each is made (or failed). A board
   * with a problem is refused with a StoryboardError before anything is sent. Canceling stops sending
   * further shots; those already queued go on in the Tasks view.
   */
  async generate(boardUri: vscode.Uri, text: string, progress?: ProgressReport, token?: vscode.CancellationToken): Promise<RunResult> {
    // Read once: the plan (which clips are made, for a rehearsal or for real) is the one of the endpoint sent to,
    // even when the setting changes meanwhile.
    const configured = await this.d.connections.endpoint().catch(() => undefined);
    const reading = await this.read(boardUri, text, configured);
    if (!reading.ok) throw new StoryboardError(vscode.l10n.t('Nothing was sent: the board cannot be read: {0}', reading.problems.map((p) => p.message).join('; ')));
    const { plan, facts } = reading;
    if (plan.ready && plan.sends.length === 0 && plan.shots.every((s) => s.state === 'made')) return { clips: new Map(plan.shots.map((s) => [s.id, s.made!])), sent: [], failed: [] };
    // The endpoint and its key first: with none configured, nothing is cut, queued or sent (this says why).
    const endpoint = configured ?? (await this.d.connections.endpoint());
    // The board is one request: its bill is held to the spend caps as a whole before anything is cut or sent
    // (asked shot by shot, a cap stopped the film halfway, its first shots paid), and Allow This Once covers it all.
    // A board with a problem is refused below (runBoard) without asking; one with nothing to send asks nothing.
    const shots = plan.shots.filter((s) => plan.sends.includes(s.id) && s.request);
    const admitted = plan.ready && shots.length > 0 ? await this.d.tasks.admitWhole(shots.map((s) => ({ duration: s.request!.duration, resolution: s.request!.resolution })), endpoint) : undefined;
    const abort = new AbortController();
    const cancel = token?.onCancellationRequested(() => abort.abort());
    const total = plan.sends.length;
    // Kept until the run ends: a window that goes first (a reload) leaves it, and the next one offers to resume.
    const board = boardUri.fsPath;
    if (admitted) await this.noteRun((runs) => [...runs, board]);
    let made = 0;
    try {
      const result = await runBoard(plan, facts, {
        submit: async (input, shot) => {
          const place = await placeRequest(input, { workspaceFolder: vscode.workspace.getWorkspaceFolder(boardUri)?.uri.fsPath });
          if (!place) throw new StoryboardError(vscode.l10n.t('No folder was chosen for the video, so nothing was requested.'));
          const [record] = await this.d.tasks.submit([{ request: input, ...place, shot }], endpoint, admitted);
          this.d.log.info(`Storyboard ${boardUri.fsPath}: shot ${shot.shotId} queued as task ${record!.id}`);
          return record!.id;
        },
        waitForVideo: (id, signal) => this.waitForVideo(id, signal),
        progress: (e) => {
          if (e.phase === 'made') made++;
          progress?.report({
            message: e.phase === 'queued' ? vscode.l10n.t('Shot {0} queued ({1} of {2} made)', e.shotId, made, total) : vscode.l10n.t('Shot {0} made ({1} of {2})', e.shotId, made, total),
            ...(e.phase === 'made' && total ? { increment: 100 / total } : {}),
          });
        },
      }, { boardPath: boardUri.fsPath, boardDir: dirname(boardUri.fsPath), workDir: this.workDirOf(boardUri), signal: abort.signal });
      for (const f of result.failed) this.d.log.warn(`Storyboard ${boardUri.fsPath}: shot ${f.shotId} was not made: ${f.error}`);
      return result;
    } catch (error) {
      if (error instanceof BoardNotReady) throw new StoryboardError(vscode.l10n.t('Nothing was sent: fix the board first: {0}', error.problems.join('; ')));
      throw error;
    } finally {
      cancel?.dispose();
      admitted?.dispose();
      if (admitted) {
        await this.noteRun((runs) => {
          const i = runs.indexOf(board);
          return i < 0 ? runs : [...runs.slice(0, i), ...runs.slice(i + 1)];
        });
      }
    }
  }

  /** Joins every shot's clip into `name.mp4` beside the board (and its `name.json`), then opens it in the player. */
  async assemble(boardUri: vscode.Uri, text: string, progress?: ProgressReport, token?: vscode.CancellationToken): Promise<vscode.Uri> {
    const reading = await this.read(boardUri, text);
    if (!reading.ok) throw new StoryboardError(vscode.l10n.t('The board cannot be read: {0}', reading.problems.map((p) => p.message).join('; ')));
    const missing = reading.plan.shots.filter((s) => !s.made).map((s) => s.id);
    if (missing.length > 0) throw new StoryboardError(vscode.l10n.t('Not every shot is made yet ({0}): generate them first.', missing.join(', ')));
    const abort = new AbortController();
    const cancel = token?.onCancellationRequested(() => abort.abort());
    try {
      progress?.report({ message: vscode.l10n.t('Joining {0} shots into a {1} s film…', reading.plan.shots.length, reading.plan.filmSeconds) });
      const film = await assembleBoard(reading.board, reading.plan, boardUri.fsPath, { signal: abort.signal });
      if (film.note) this.d.log.warn(`Storyboard ${boardUri.fsPath}: ${film.note}`);
      this.d.log.info(`Storyboard ${boardUri.fsPath}: ${film.upToDate ? 'up to date (nothing changed since it was assembled)' : 'assembled'} ${film.video} (${film.seconds.toFixed(2)} s)`);
      progress?.report({ message: vscode.l10n.t('Film written'), increment: 100 });
      const uri = vscode.Uri.file(film.video);
      this.d.players.show(uri);
      return uri;
    } finally {
      cancel?.dispose();
    }
  }

  /** `endpoint`: the one the plan is for; read from the settings when not given. */
  private async read(boardUri: vscode.Uri, text: string, given?: EndpointRef): Promise<BoardReading> {
    if (boardUri.scheme !== 'file') return { ok: false, problems: [{ path: [], message: vscode.l10n.t('Only a board saved on this machine can be planned: {0}', boardUri.toString()) }] };
    const records = this.d.tasks.all();
    const folders = [...outputFolders(), ...records.flatMap((r) => (r.save?.file ? [dirname(r.save.file)] : []))];
    // An endpoint not configured yet sends nothing; its plan counts no rehearsal clip as the film.
    const endpoint = given ?? (await this.d.connections.endpoint().catch(() => undefined));
    const uploads = endpoint ? canUploadAudio(endpoint) : true;
    const rehearsal = endpoint ? isRehearsal(endpoint) : false;
    return readAndPlan(text, boardUri.fsPath, { records, folders, canUploadAudio: uploads, rehearsal, index: this.index });
  }

  private workDirOf(boardUri: vscode.Uri): string {
    return join(this.d.workDir, createHash('sha256').update(boardUri.fsPath).digest('hex').slice(0, 16));
  }

  /** The task's clip once saved; rejects when the task ends without one or is removed. */
  private waitForVideo(id: string, signal?: AbortSignal): Promise<MadeClip> {
    return new Promise<MadeClip>((resolve, reject) => {
      const check = (): boolean => {
        const r: TaskRecord | undefined = this.d.tasks.get(id);
        if (!r) return done(new StoryboardError(vscode.l10n.t('The task was removed from the list')));
        if (r.save?.state === 'saved' && r.save.file) return done(undefined, { video: r.save.file, ...(r.taskId ? { taskId: r.taskId } : {}) });
        if (r.state === 'failed' || r.state === 'canceled' || r.state === 'unknown' || r.save?.state === 'expired') {
          return done(new StoryboardError(failureText(r) || vscode.l10n.t('The task ended as {0}', r.state)));
        }
        return false;
      };
      const onAbort = () => done(new StoryboardError(vscode.l10n.t('Canceled')));
      const sub = this.d.tasks.onDidChange(() => check());
      signal?.addEventListener('abort', onAbort);
      function done(error: Error | undefined, clip?: MadeClip): true {
        sub.dispose();
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(clip!);
        return true;
      }
      if (signal?.aborted) onAbort();
      else check();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
