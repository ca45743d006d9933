// How a task reads in the tree, in notifications and in its details: status words, age, time left before
// the service forgets it, and the full Markdown description.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { boardName } from '../../storyboard/film';
import { isExpired, expiresAt, failureText, taskLabel, UNANSWERED_CHECKS_SHOWN, type TaskRecord } from '../../tasks/record';
import { batchInputName } from '../../tasks/batch';
import { adviceFor, kindOfCode } from '../../wan/explain';
import { MODEL } from '../../wan/limits';
import { translateHint } from '../panel/errors';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** True while the engine (or the service) is still working on it: the icon spins. */
export function isBusy(r: TaskRecord): boolean {
  return (
    r.state === 'queued' ||
    r.state === 'creating' ||
    r.state === 'pending' ||
    r.state === 'running' ||
    (r.state === 'succeeded' && (r.save?.state === 'waiting' || r.save?.state === 'saving'))
  );
}

/** Counted in the badge and the status bar. */
export function isRunning(r: TaskRecord): boolean {
  return r.state === 'queued' || r.state === 'creating' || r.state === 'pending' || r.state === 'running';
}

/** A succeeded task whose video is not saved yet: its link dies at expiresAt. */
export function isUnsaved(r: TaskRecord): boolean {
  return r.state === 'succeeded' && r.save?.state !== 'saved';
}

export function isExpiredNow(r: TaskRecord, now: number): boolean {
  return r.save?.state === 'expired' || isExpired(r, now);
}

export function statusText(r: TaskRecord, now: number): string {
  switch (r.state) {
    case 'queued':
      // Waiting for an endpoint nothing answers at: say so on the row, not only in the hover.
      return r.code && kindOfCode(r.code) === 'network' ? vscode.l10n.t('Queued: endpoint unreachable ({0})', r.code) : vscode.l10n.t('Queued');
    case 'creating':
      return vscode.l10n.t('Creating…');
    case 'unresolved':
      return vscode.l10n.t('May not have been created');
    case 'pending':
    case 'running': {
      const status = r.state === 'pending' ? vscode.l10n.t('Pending') : vscode.l10n.t('Running');
      // An outage of minutes shows on the row, not only in the hover.
      return r.pollFailures >= UNANSWERED_CHECKS_SHOWN ? vscode.l10n.t('{0}: no answer to the last {1} checks', status, r.pollFailures) : status;
    }
    case 'failed':
      return r.code ? vscode.l10n.t('Failed: {0}', r.code) : vscode.l10n.t('Failed');
    case 'canceled':
      return vscode.l10n.t('Canceled');
    case 'unknown':
      return vscode.l10n.t('Unknown to the service');
    case 'succeeded':
      if (isExpiredNow(r, now)) return vscode.l10n.t('Expired');
      switch (r.save?.state) {
        case 'saved':
          return vscode.l10n.t('Saved');
        case 'failed':
          return vscode.l10n.t('Not saved');
        case 'waiting':
        case 'saving':
          return vscode.l10n.t('Saving…');
        default:
          return vscode.l10n.t('Succeeded');
      }
  }
}

/** "just now", "4 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  if (ms < MINUTE) return vscode.l10n.t('just now');
  if (ms < HOUR) return vscode.l10n.t('{0} min', Math.floor(ms / MINUTE));
  if (ms < DAY) return vscode.l10n.t('{0} h', Math.floor(ms / HOUR));
  return vscode.l10n.t('{0} d', Math.floor(ms / DAY));
}

/** "23 h 5 min left", "42 min left", "under a minute left". */
export function formatLeft(ms: number): string {
  if (ms < MINUTE) return vscode.l10n.t('under a minute left');
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  if (hours === 0) return vscode.l10n.t('{0} min left', minutes);
  return vscode.l10n.t('{0} h {1} min left', hours, minutes);
}

/**
 * Time left before the result link dies, for an ended task whose video is not saved yet: the one case where the
 * user must act in time. (While the task runs, the countdown of its submission read as a wait of 23 h.)
 */
export function timeLeft(r: TaskRecord, now: number): number | undefined {
  if (!isUnsaved(r)) return undefined;
  if (isExpiredNow(r, now)) return undefined;
  const at = expiresAt(r);
  return at === undefined ? undefined : Math.max(0, at - now);
}

/** Status · age · time left. */
export function describe(r: TaskRecord, now: number): string {
  const parts = [statusText(r, now), formatAge(Math.max(0, now - r.requestedAt))];
  const left = timeLeft(r, now);
  if (left !== undefined) parts.push(formatLeft(left));
  return parts.join(' · ');
}

export function label(r: TaskRecord): string {
  return taskLabel(r);
}

/** A row's name: a batch's rows share their prompt, so each goes by its image first. */
export function rowLabel(r: TaskRecord, inBatch: boolean, underBoard = false): string {
  // A storyboard's shot goes by its shot (under its board's row), or by its board and shot elsewhere.
  if (r.shot) return underBoard ? `${r.shot.shotId} · ${label(r)}` : `${boardName(r.shot.board)} · ${r.shot.shotId} · ${label(r)}`;
  return inBatch ? `${batchInputName(r)} · ${label(r)}` : label(r);
}

function when(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toLocaleString();
}

function bytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

/** Every detail of the task, for the tooltip and the details document. Text from the user or the service is escaped. */
export function detailsMarkdown(r: TaskRecord, now: number): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', false);
  md.supportHtml = false;
  const row = (name: string, value: string | number | boolean | undefined | null) => {
    if (value === undefined || value === null || value === '') return;
    md.appendMarkdown(`**${name}:** `);
    md.appendText(String(value));
    md.appendMarkdown('  \n');
  };
  md.appendMarkdown('#### ');
  md.appendText(label(r));
  md.appendMarkdown('\n\n');
  row(vscode.l10n.t('Status'), describe(r, now));
  if (r.endpoint.kind === 'emulator') md.appendMarkdown(`*${vscode.l10n.t('Rehearsal: made by the local emulator, not the Wan model.')}*  \n`);
  if (r.code || r.message) {
    // Only an answer of the service is "what the service says": a refused connection is a local problem.
    const kind = kindOfCode(r.code);
    row(kind === 'service' || !r.code ? vscode.l10n.t('Service says') : vscode.l10n.t('Problem'), failureText(r));
    const advice = r.code ? adviceFor(r.code, kind) : undefined;
    if (advice) row(vscode.l10n.t('What to do'), translateHint(advice.hint));
  }
  if (r.save?.error) row(vscode.l10n.t('Saving'), r.save.error);
  md.appendMarkdown('\n');
  row(vscode.l10n.t('Task ID'), r.taskId);
  row(vscode.l10n.t('Request ID'), r.requestId);
  row(vscode.l10n.t('Local ID'), r.id);
  row(vscode.l10n.t('Model'), MODEL);
  row(vscode.l10n.t('Endpoint'), r.endpoint.kind === 'emulator' ? vscode.l10n.t('rehearsal emulator') : r.endpoint.baseUrl);
  md.appendMarkdown('\n');
  const q = r.request;
  row(vscode.l10n.t('Prompt'), q.prompt);
  row(vscode.l10n.t('Prompt as the service recorded it'), r.origPrompt !== q.prompt ? r.origPrompt : undefined);
  row(vscode.l10n.t('Negative prompt'), q.negativePrompt);
  row(vscode.l10n.t('First frame'), q.firstFrame);
  row(vscode.l10n.t('Last frame'), q.lastFrame);
  row(vscode.l10n.t('Driving audio'), q.drivingAudio);
  row(vscode.l10n.t('First clip'), q.firstClip);
  const params = [
    q.resolution ?? '1080P',
    `${q.duration ?? 5} s`,
    q.seed !== undefined ? `seed ${q.seed}` : undefined,
    q.promptExtend === false ? 'prompt_extend off' : undefined,
    q.watermark ? 'watermark' : undefined,
  ].filter(Boolean);
  row(vscode.l10n.t('Parameters'), params.join(', '));
  if (r.outputSize) row(vscode.l10n.t('Output size'), `${r.outputSize.width}×${r.outputSize.height}`);
  md.appendMarkdown('\n');
  row(vscode.l10n.t('Requested'), when(r.requestedAt));
  row(vscode.l10n.t('Submitted (service time, UTC+8)'), r.submitTime);
  row(vscode.l10n.t('Started (service time, UTC+8)'), r.scheduledTime);
  row(vscode.l10n.t('Ended (service time, UTC+8)'), r.endTime);
  const at = expiresAt(r);
  if (at !== undefined && r.state !== 'queued') row(vscode.l10n.t('The service forgets it at'), when(at));
  if (r.usage) {
    const u = r.usage as Record<string, unknown>;
    row(vscode.l10n.t('Usage'), Object.entries(u).map(([k, v]) => `${k} ${String(v)}`).join(', '));
  }
  if (r.save?.state === 'saved' && r.save.file) {
    md.appendMarkdown('\n');
    row(vscode.l10n.t('Saved as'), r.save.file);
    if (r.save.bytes !== undefined) row(vscode.l10n.t('Size'), bytes(r.save.bytes));
  } else if (r.outputFolder) {
    row(vscode.l10n.t('Output folder'), r.outputFolder);
  }
  return md;
}

export function savedFile(r: TaskRecord): string | undefined {
  return r.save?.state === 'saved' ? r.save.file : undefined;
}

export function fileName(path: string): string {
  return basename(path);
}
