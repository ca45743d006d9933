// Turns a failure (a refused create, a failed task, a missing key) into a sentence a person can act on
// and the buttons for the next step.
import * as vscode from 'vscode';
import { explainError } from '../../wan';
import type { Action } from '../../protocol/generate';
import { NotConfiguredError } from '../connection';
import { readEndpoint } from '../settings';

export interface ActionableError {
  message: string;
  hint?: string;
  actions: Action[];
}

function regionName(): string | undefined {
  const setting = readEndpoint();
  if (!('endpoint' in setting)) return undefined;
  switch (setting.endpoint.kind) {
    case 'beijing':
      return vscode.l10n.t('Beijing');
    case 'singapore':
    case 'singapore-workspace':
      return vscode.l10n.t('Singapore');
    default:
      return undefined;
  }
}

/** What to say and offer for a service error code (or one of ours). */
export function adviceFor(code: string | undefined, message: string): ActionableError {
  const c = code ?? '';
  if (c === 'InvalidApiKey') {
    const region = regionName();
    return {
      message,
      hint: region
        ? vscode.l10n.t('The key was refused. A key works only in the region it was created in, and this endpoint is in {0}: check the key, or choose the region the key belongs to.', region)
        : vscode.l10n.t('The key was refused. Check the key, and that it belongs to the same region as the endpoint.'),
      actions: ['setKey', 'openSettings'],
    };
  }
  if (c.startsWith('Throttling') || c === 'LimitRequests') {
    return { message, hint: vscode.l10n.t('The service is throttling this account. Wait a little, then try again.'), actions: ['retry', 'showLog'] };
  }
  if (c === 'DataInspectionFailed' || c === 'InvalidParameter.DataInspection') {
    return {
      message,
      hint: vscode.l10n.t('Content inspection flagged the prompt or an input. Change the prompt or the media, then try again.'),
      actions: ['showLog'],
    };
  }
  if (c === 'Arrearage' || /BillOverdue$/.test(c)) {
    return {
      message,
      hint: vscode.l10n.t('The Alibaba Cloud account is overdue. Top it up in the Alibaba Cloud console, then try again.'),
      actions: ['retry', 'showLog'],
    };
  }
  if (c === 'AccessDenied.Unpurchased' || c === 'CommodityNotPurchased' || c === 'Model.AccessDenied' || c === 'AccessDenied') {
    return {
      message,
      hint: vscode.l10n.t('This account or workspace cannot use the model in this region yet. Activate Model Studio (or grant the model) in its console, or choose another region.'),
      actions: ['openSettings', 'showLog'],
    };
  }
  if (c === 'CreateOutcomeUnknown' || c === 'Unresolved') {
    // Never offer Retry here: the service may have made (and will bill) the task already.
    return {
      message,
      hint: vscode.l10n.t('The service may have created this task. It was not sent again, so nothing is billed twice; check your recent tasks before generating it again.'),
      actions: ['showLog'],
    };
  }
  if (c === 'NotConfigured') {
    return { message, actions: ['setKey', 'openSettings'] };
  }
  if (c === 'Policy expired' || /upload/i.test(message)) {
    return { message, hint: vscode.l10n.t('The temporary upload failed. Give a public URL for the file instead.'), actions: ['retry', 'showLog'] };
  }
  return { message, actions: ['retry', 'showLog'] };
}

/** For an exception thrown while submitting. */
export function adviceForError(error: unknown): ActionableError {
  if (error instanceof NotConfiguredError) return adviceFor('NotConfigured', error.message);
  const explained = explainError(error);
  const advice = adviceFor(explained.code, explained.message);
  return { ...advice, hint: advice.hint ?? explained.hint };
}
