// Turns a failure (a refused create, a failed task, a missing key) into a sentence a person can act on
// and the buttons for the next step.
import * as vscode from 'vscode';
import { adviceFor as adviceForCode, explainError, kindOfCode, type ErrorKind } from '../../wan';
import type { Action } from '../../protocol/generate';
import { readEndpoint } from '../settings';

export interface ActionableError {
  message: string;
  hint?: string;
  actions: Action[];
}

function regionName(): string | undefined {
  const setting = readEndpoint();
  if (!('endpoint' in setting)) return undefined;
  const kind = setting.endpoint.kind;
  if (kind === 'beijing') return vscode.l10n.t('Beijing');
  if (kind === 'singapore' || kind === 'singapore-workspace') return vscode.l10n.t('Singapore');
  return undefined;
}

/** The table's English hint in the display language (every hint is in the l10n bundles; a unit test checks). */
export function translateHint(hint: string): string {
  return vscode.l10n.t(hint);
}

/**
 * What to say and offer for an error code (the service's or one of ours), from the core's one table of
 * advice (src/wan/explain.ts), translated; the key's region is named when the endpoint tells it.
 */
export function adviceFor(code: string | undefined, message: string, kind: ErrorKind = kindOfCode(code)): ActionableError {
  const advice = adviceForCode(code, kind);
  const region = code === 'InvalidApiKey' ? regionName() : undefined;
  const hint = region
    ? vscode.l10n.t('The key was refused. A key works only in the region it was created in, and this endpoint is in {0}: check the key, or choose the region the key belongs to.', region)
    : advice && translateHint(advice.hint);
  const next = advice?.next ?? ['retry'];
  // A refused key is mended with the key and the settings; the log has nothing more to say.
  return { message, hint, actions: next.includes('setKey') ? next : [...next, 'showLog'] };
}

/** For an exception thrown while submitting. */
export function adviceForError(error: unknown): ActionableError {
  const explained = explainError(error);
  return adviceFor(explained.code, explained.message, explained.kind);
}
