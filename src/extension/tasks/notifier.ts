// What the user hears about tasks: one notification when a task ends (from the one window that held it),
// and one warning when a result is still unsaved an hour before its link dies. Each action runs the
// same command as the tree's menu. What was shown is kept (briefly) for the test API.
import * as vscode from 'vscode';
import type { Outage } from '../../tasks/engine';
import { expiresAt, failureText, type TaskRecord } from '../../tasks/record';
import { adviceFor } from '../../wan/explain';
import { sidecarPathOf } from '../../tasks/sidecar';
import type { StoreRecovery } from '../../tasks/store';
import { DURATION_DEFAULT_S, billedSeconds } from '../../wan';
import { CommandIds } from '../commands/ids';
import { translateHint } from '../panel/errors';
import { fileName, formatLeft, label } from './present';

export interface Notice {
  kind: 'ended' | 'expiring' | 'unresolved' | 'error' | 'info' | 'unreachable' | 'recovered' | 'storage';
  severity: 'info' | 'warning' | 'error';
  recordId?: string;
  message: string;
  actions: string[];
}

const KEEP = 200;

export class TaskNotifier {
  private readonly shown: Notice[] = [];

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly now: () => number,
  ) {}

  /** The notifications shown so far in this window (newest last, at most 200). */
  history(): readonly Notice[] {
    return this.shown;
  }

  ended(r: TaskRecord): void {
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
      const hint = adviceFor(r.code)?.hint;
      const why = [failureText(r), hint && translateHint(hint)].filter(Boolean).join(' ');
      this.show('ended', 'error', r.id, vscode.l10n.t('Generation failed: "{0}": {1}', name, why), [details], { [details]: CommandIds.showTaskDetails });
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
  ): void {
    this.shown.push({ kind, severity, recordId, message, actions });
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
