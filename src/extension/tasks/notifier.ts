// What the user hears about tasks: one notification when a task ends (from the one window that held it),
// one for the videos of a batch or a sync ("3 videos ready"), and one warning when a result is still unsaved
// an hour before its link dies. Each action runs the same command as the tree's menu. What was shown is kept
// (briefly) for the test API.
import * as vscode from 'vscode';
import type { Outage } from '../../tasks/engine';
import { batchInputName, batchSiblings } from '../../tasks/batch';
import { expiresAt, failureText, type TaskRecord } from '../../tasks/record';
import { adviceFor } from '../../wan/explain';
import { sidecarPathOf } from '../../tasks/sidecar';
import type { StoreRecovery } from '../../tasks/store';
import { DURATION_DEFAULT_S, billedSeconds } from '../../wan';
import { CommandIds } from '../commands/ids';
import { translateHint } from '../panel/errors';
import { fileName, formatLeft, label } from './present';

export interface Notice {
  kind: 'ended' | 'expiring' | 'unresolved' | 'error' | 'info' | 'unreachable' | 'recovered' | 'storage' | 'interrupted';
  severity: 'info' | 'warning' | 'error';
  recordId?: string;
  /** A grouped notice: every task it tells of. */
  recordIds?: string[];
  message: string;
  actions: string[];
}

const KEEP = 200;
/** A batch's first videos wait this long at most for the rest (a stuck task must not hide them). */
const BATCH_WAIT_MS = 15 * 60_000;
/** Videos a sync found wait this long at most for the rest of its downloads. */
const SYNC_WAIT_MS = 5 * 60_000;
/** Names listed in a grouped notice. */
const NAMES_SHOWN = 4;

/** Videos announced together: a batch's, or a sync's. */
interface Group {
  kind: 'batch' | 'sync';
  /** Every task the group waits for (a sync's are known only once it is done). */
  members: Set<string>;
  /** Saved videos held for the one notice. */
  held: TaskRecord[];
  /** A sync still reading the account: everything that ends is held. */
  open: boolean;
  timer?: NodeJS.Timeout;
}

export interface NotifierOptions {
  /** The task list as it is now (to find a batch's other tasks). */
  records: () => readonly TaskRecord[];
  /** The grouped notice's Show: where the videos are listed. */
  showVideos: () => unknown;
}

export class TaskNotifier implements vscode.Disposable {
  private readonly shown: Notice[] = [];
  private readonly groups = new Set<Group>();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly now: () => number,
    private readonly options: NotifierOptions = { records: () => [], showVideos: () => undefined },
  ) {}

  /** The notifications shown so far in this window (newest last, at most 200). */
  history(): readonly Notice[] {
    return this.shown;
  }

  /**
   * A task ended. A saved video of a batch waits for the batch's other tasks, and one of a sync for the sync's
   * other downloads, so the user hears once ("3 videos ready"); anything else is told at once.
   */
  ended(r: TaskRecord): void {
    const ready = r.state === 'succeeded' && r.save?.state === 'saved' && !!r.save.file && !r.save.pendingRecord;
    const group = ready ? this.groupFor(r) : undefined;
    if (group) {
      group.held.push(r);
      group.members.add(r.id);
    } else {
      this.endedAlone(r);
    }
    // A failure, or the last video, may be what a group waited for.
    for (const g of [...this.groups]) if (g === group || g.members.has(r.id)) this.settle(g);
  }

  /**
   * Holds the videos that end until `release` is called with what the sync added; then they are told together
   * with those of its tasks still downloading.
   */
  holdForSync(): { release: (added: readonly TaskRecord[]) => void } {
    const group: Group = { kind: 'sync', members: new Set(), held: [], open: true };
    this.groups.add(group);
    return {
      release: (added) => {
        for (const r of added) group.members.add(r.id);
        group.open = false;
        group.timer = setTimeout(() => this.flush(group), SYNC_WAIT_MS);
        this.settle(group);
      },
    };
  }

  private groupFor(r: TaskRecord): Group | undefined {
    const sync = [...this.groups].find((g) => g.kind === 'sync' && (g.open || g.members.has(r.id)));
    if (sync) return sync;
    const known = [...this.groups].find((g) => g.kind === 'batch' && g.members.has(r.id));
    if (known) return known;
    const siblings = batchSiblings(r, this.options.records());
    if (!siblings.length) return undefined;
    const group: Group = { kind: 'batch', members: new Set([r.id, ...siblings.map((s) => s.id)]), held: [], open: false };
    group.timer = setTimeout(() => this.flush(group), BATCH_WAIT_MS);
    this.groups.add(group);
    return group;
  }

  /** Told once nothing the group waits for is still to come. */
  private settle(group: Group): void {
    if (group.open) return;
    const held = new Set(group.held.map((r) => r.id));
    const byId = new Map(this.options.records().map((r) => [r.id, r]));
    const toCome = [...group.members].filter((id) => {
      const r = byId.get(id);
      if (!r || held.has(id) || r.announced) return false;
      // A sync waits for its downloads, not for tasks the service is still running (they are told on their own).
      return group.kind === 'batch' || r.state === 'succeeded';
    });
    if (!toCome.length) this.flush(group);
  }

  private flush(group: Group): void {
    if (!this.groups.delete(group)) return;
    if (group.timer) clearTimeout(group.timer);
    // In the order they were asked for (the batch's images, as chosen), not the order they ended.
    group.held.sort((a, b) => a.requestedAt - b.requestedAt);
    const [first, ...more] = group.held;
    if (!first) return;
    if (!more.length) return this.endedAlone(first);
    const names = group.held.map((r) => (group.kind === 'batch' ? batchInputName(r) : label(r)));
    const listed = names.length > NAMES_SHOWN ? `${names.slice(0, NAMES_SHOWN).join(', ')}, …` : names.join(', ');
    const show = vscode.l10n.t('Show');
    this.show('ended', 'info', first.id, vscode.l10n.t('{0} videos ready: {1}', group.held.length, listed), [show], { [show]: this.options.showVideos }, group.held.map((r) => r.id));
  }

  /** The window closes: the timers of held groups stop (their tasks are announced already; nothing is lost but the toast). */
  dispose(): void {
    for (const g of this.groups) if (g.timer) clearTimeout(g.timer);
    this.groups.clear();
  }

  private endedAlone(r: TaskRecord): void {
    const name = label(r);
    const details = vscode.l10n.t('Details');
    if (r.state === 'succeeded' && r.save?.state === 'saved' && r.save.file) {
      const play = vscode.l10n.t('Play');
      const reveal = vscode.l10n.t('Reveal');
      const pending = r.save.pendingRecord?.error;
      const message = pending
        ? vscode.l10n.t('Video ready: {0} ({1}). Its record {2} could not be written yet ({3}); Wan Studio keeps trying.', name, fileName(r.save.file), fileName(sidecarPathOf(r.save.file)), pending)
        : vscode.l10n.t('Video ready: {0} ({1})', name, fileName(r.save.file));
      this.show('ended', pending ? 'warning' : 'info', r.id, message, [play, reveal, details], {
        [play]: CommandIds.playTask,
        [reveal]: CommandIds.revealTask,
        [details]: CommandIds.showTaskDetails,
      });
    } else if (r.state === 'succeeded' && r.save?.state === 'expired') {
      this.show('ended', 'error', r.id, vscode.l10n.t('The video of "{0}" expired before it could be saved.', name), [details], {
        [details]: CommandIds.showTaskDetails,
      });
    } else if (r.state === 'succeeded') {
      const retry = vscode.l10n.t('Retry Download');
      this.show('ended', 'warning', r.id, vscode.l10n.t('The video of "{0}" could not be saved: {1}', name, r.save?.error ?? ''), [retry, details], {
        [retry]: CommandIds.retryDownload,
        [details]: CommandIds.showTaskDetails,
      });
    } else if (r.state === 'failed') {
      const advice = adviceFor(r.code);
      const why = [failureText(r), advice?.hint && translateHint(advice.hint)].filter(Boolean).join(' ');
      // A request refused for want of a key or a setting is mended there (no argument: the key is asked for).
      const setKey = vscode.l10n.t('Set Key');
      const settings = vscode.l10n.t('Open Settings');
      const mend = advice?.next.includes('setKey') ? [setKey, settings] : [];
      this.show('ended', 'error', r.id, vscode.l10n.t('Generation failed: "{0}": {1}', name, why), [...mend, details], {
        [setKey]: () => vscode.commands.executeCommand(CommandIds.setApiKey),
        [settings]: () => vscode.commands.executeCommand(CommandIds.openSettings),
        [details]: CommandIds.showTaskDetails,
      });
    } else if (r.state === 'canceled') {
      this.show('ended', 'info', r.id, vscode.l10n.t('Canceled: "{0}"', name), [details], { [details]: CommandIds.showTaskDetails });
    } else {
      this.show('ended', 'warning', r.id, vscode.l10n.t('The service no longer knows "{0}": {1}', name, r.message ?? ''), [details], {
        [details]: CommandIds.showTaskDetails,
      });
    }
  }

  expiring(r: TaskRecord): void {
    const at = expiresAt(r);
    const left = at === undefined ? '' : formatLeft(Math.max(0, at - this.now()));
    const retry = vscode.l10n.t('Retry Download');
    const details = vscode.l10n.t('Details');
    this.show('expiring', 'warning', r.id, vscode.l10n.t('The video of "{0}" is not saved yet and its link expires soon ({1}).', label(r), left), [retry, details], {
      [retry]: CommandIds.retryDownload,
      [details]: CommandIds.showTaskDetails,
    });
  }

  /**
   * Nothing answers at an endpoint requests are waiting for: said once per outage (the engine calls this
   * once), with the URL and the four ways on.
   */
  unreachable(o: Outage, actions: Record<'openSettings' | 'switchToEmulator' | 'retry' | 'cancel', () => unknown>): void {
    const open = vscode.l10n.t('Open Settings');
    const emulator = vscode.l10n.t('Switch to Emulator');
    const retry = vscode.l10n.t('Retry');
    const cancel = vscode.l10n.t('Cancel');
    const message = vscode.l10n.t(
      'Nothing answers at {0} ({1}). Your request was not sent; it waits and tries again with a growing delay.',
      o.url,
      o.reason,
    );
    const offered = o.endpoint.kind === 'emulator' ? [open, retry, cancel] : [open, emulator, retry, cancel];
    this.show('unreachable', 'error', o.waiting[0], message, offered, {
      [open]: actions.openSettings,
      [emulator]: actions.switchToEmulator,
      [retry]: actions.retry,
      [cancel]: actions.cancel,
    });
  }

  /** The task list was damaged and rebuilt: what came back, from where, and what to do if the account could not be read. */
  recovered(recovery: StoreRecovery, outcome: { added: TaskRecord[] } | { error: string }, fromRecords: readonly TaskRecord[] = []): void {
    const kept = recovery.fromMemory + recovery.fromLastGood;
    // Saved videos of any age, listed again from the records beside them.
    const listed = fromRecords.length ? ` ${vscode.l10n.t('{0} saved videos were listed again from the records beside them.', fromRecords.length)}` : '';
    if ('added' in outcome) {
      this.show(
        'recovered',
        'warning',
        undefined,
        vscode.l10n.t(
          'The task list was damaged ({0}) and has been rebuilt: {1} tasks recovered from this window and the last good copy, {2} added from the account’s last 24 hours. The damaged file was kept as {3}.',
          recovery.why,
          kept,
          outcome.added.length,
          recovery.damagedCopy,
        ) + listed,
        [],
        {},
      );
      return;
    }
    const sync = vscode.l10n.t('Sync from Account');
    this.show(
      'recovered',
      'warning',
      undefined,
      vscode.l10n.t(
        'The task list was damaged ({0}) and has been rebuilt: {1} tasks recovered from this window and the last good copy. The account’s tasks could not be read ({2}): run Sync from Account to add any task still missing. The damaged file was kept as {3}.',
        recovery.why,
        kept,
        outcome.error,
        recovery.damagedCopy,
      ) + listed,
      [sync],
      { [sync]: CommandIds.syncFromAccount },
    );
  }

  /** The task list cannot be written (once), or can again. */
  storage(problem: string | undefined): void {
    if (problem === undefined) {
      this.show('storage', 'info', undefined, vscode.l10n.t('Wan Studio can save its task list again; tasks are followed again.'), [], {});
      return;
    }
    this.show(
      'storage',
      'error',
      undefined,
      vscode.l10n.t('Wan Studio cannot save its task list ({0}). Tasks are not followed until it can; it keeps trying, no reload needed.', problem),
      [],
      {},
    );
  }

  /**
   * An interrupted create its lookup could not match: what the task list showed, and what Create Again
   * would cost, so the user does not pay twice for a video that is on its way.
   */
  unresolved(r: TaskRecord): void {
    const name = label(r);
    const seen = r.lookup?.seen ?? [];
    const fitting = r.lookup?.fitting ?? [];
    const window = r.lookup ? vscode.l10n.t('between {0} and {1}', shortTime(r.lookup.from), shortTime(r.lookup.to)) : '';
    const seconds = billedSeconds(r.request.duration ?? DURATION_DEFAULT_S);
    const details = vscode.l10n.t('Details');
    const lookAgain = vscode.l10n.t('Look Again');
    if (fitting.length > 0) {
      // Tasks exist that may be this one: a new create would certainly be paid twice.
      const message = vscode.l10n.t(
        'Not sure which task is "{0}": its create was interrupted, and {1} tasks made {2} fit it equally ({3}). Add the right one by its ID (Wan Studio: Add Task by ID) rather than creating it again, which would bill {4} s again.',
        name,
        fitting.length,
        window,
        fitting.join(', '),
        seconds,
      );
      this.show('unresolved', 'warning', r.id, message, [details], { [details]: CommandIds.showTaskDetails });
      return;
    }
    const createAgain = vscode.l10n.t('Create Again');
    const known =
      seen.length === 0
        ? vscode.l10n.t('The service\'s task list shows no task made {0}.', window)
        : vscode.l10n.t('The service\'s task list shows {0} other task(s) made {1}, all ended, none with its prompt: {2}.', seen.length, window, seen.map((t) => `${t.taskId} (${t.status})`).join(', '));
    const message = vscode.l10n.t(
      '"{0}" may not have been created: its create was interrupted before the service answered. {1} Lists can lag: Look Again in a minute. Create Again makes a new task, billed {2} s again.',
      name,
      known,
      seconds,
    );
    this.show('unresolved', 'warning', r.id, message, [lookAgain, createAgain, details], {
      [lookAgain]: CommandIds.lookAgain,
      [createAgain]: CommandIds.createAgain,
      [details]: CommandIds.showTaskDetails,
    });
  }

  /** A storyboard's Generate that the window's end cut short: the shots it had not sent wait for the user. */
  boardInterrupted(board: string, actions: { resume: () => unknown; open: () => unknown }): void {
    const resume = vscode.l10n.t('Resume');
    const open = vscode.l10n.t('Open Storyboard');
    this.show(
      'interrupted',
      'warning',
      undefined,
      vscode.l10n.t(
        'The storyboard {0} was generating when the window closed, so the shots it had not sent yet were not sent. Resume sends them once the clips they continue are saved (tasks already queued go on in the Tasks view).',
        vscode.workspace.asRelativePath(board),
      ),
      [resume, open],
      { [resume]: actions.resume, [open]: actions.open },
    );
  }

  error(message: string, recordId?: string): void {
    this.show('error', 'error', recordId, message, [], {});
  }

  info(message: string, recordId?: string): void {
    this.show('info', 'info', recordId, message, [], {});
  }

  /** `run` maps each button to the command it runs (with the record's ID), or to a function. */
  private show(
    kind: Notice['kind'],
    severity: Notice['severity'],
    recordId: string | undefined,
    message: string,
    actions: string[],
    run: Record<string, string | (() => unknown)>,
    recordIds?: string[],
  ): void {
    this.shown.push({ kind, severity, recordId, message, actions, ...(recordIds ? { recordIds } : {}) });
    if (this.shown.length > KEEP) this.shown.splice(0, this.shown.length - KEEP);
    const line = `Notified (${kind}${recordId ? ` ${recordId}` : ''}): ${message}`;
    if (severity === 'error') this.log.warn(line);
    else this.log.info(line);
    const shown =
      severity === 'error'
        ? vscode.window.showErrorMessage(message, ...actions)
        : severity === 'warning'
          ? vscode.window.showWarningMessage(message, ...actions)
          : vscode.window.showInformationMessage(message, ...actions);
    void Promise.resolve(shown)
      .then((choice) => {
        const action = choice ? run[choice] : undefined;
        if (typeof action === 'function') return action();
        return action ? vscode.commands.executeCommand(action, recordId) : undefined;
      })
      .then(undefined, (error: unknown) => this.log.warn(`Notification action failed: ${String(error)}`));
  }
}

/** A time of today as hours and minutes (with seconds: a create's window is minutes long). */
function shortTime(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}
