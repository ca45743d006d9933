// What the user hears about tasks: one notification when a task ends (from the one window that held it),
// and one warning when a result is still unsaved an hour before its link dies. Each action runs the
// same command as the tree's menu. What was shown is kept (briefly) for the test API.
import * as vscode from 'vscode';
import { expiresAt, type TaskRecord } from '../../tasks/record';
import { DURATION_DEFAULT_S, billedSeconds } from '../../wan';
import { CommandIds } from '../commands/ids';
import { fileName, formatLeft, label } from './present';

export interface Notice {
  kind: 'ended' | 'expiring' | 'unresolved' | 'error' | 'info';
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
      this.show('ended', 'info', r.id, vscode.l10n.t('Video ready: {0} ({1})', name, fileName(r.save.file)), [play, reveal, details], {
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
      const why = [r.code, r.message].filter(Boolean).join(': ');
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

  private show(kind: Notice['kind'], severity: Notice['severity'], recordId: string | undefined, message: string, actions: string[], run: Record<string, string>): void {
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
        const command = choice ? run[choice] : undefined;
        return command ? vscode.commands.executeCommand(command, recordId) : undefined;
      })
      .then(undefined, (error: unknown) => this.log.warn(`Notification action failed: ${String(error)}`));
  }
}

/** A time of today as hours and minutes (with seconds: a create's window is minutes long). */
function shortTime(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}
