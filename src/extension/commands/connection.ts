import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { NotConfiguredError, type ConnectionFactory } from '../connection';
import { WanApiError, WanNetworkError, explainError } from '../../wan';
import { adviceFor, type NextStep } from '../../wan/explain';
import { endpointSettingId, openSettingsAt } from '../settings';
import { CommandIds } from './ids';

/**
 * The service checks the key before it looks the task up, so a lookup of a task that cannot exist
 * (UNKNOWN, or a 400/404 about the ID) proves the endpoint answers and accepts the key.
 */
function keyAccepted(error: unknown): boolean {
  // Only a DashScope error body counts: a web server's own 404 page says nothing about the key.
  return error instanceof WanApiError && (error.httpStatus === 400 || error.httpStatus === 404) && !error.code.startsWith('HTTP');
}

/** A failed check says what failed and the ways on it offers as buttons (the endpoint settings always among them). */
export type ConnectionCheck = { ok: true; baseUrl: string; rehearsal: boolean } | { ok: false; message: string; next: NextStep[] };

/**
 * `wanStudio.testConnection`: checks that the endpoint answers and accepts the stored key, with a
 * free read (a task lookup), never a create. Resolves to the outcome so automation can use it.
 */
export async function testConnection(connections: ConnectionFactory, log: vscode.LogOutputChannel): Promise<ConnectionCheck> {
  let result: ConnectionCheck;
  try {
    const { client, baseUrl, rehearsal } = await connections.connect();
    try {
      try {
        await client.getTask(randomUUID());
      } catch (error) {
        if (!keyAccepted(error)) throw error;
      }
      result = { ok: true, baseUrl, rehearsal };
    } finally {
      await client.close();
    }
  } catch (error) {
    const explained = error instanceof NotConfiguredError ? { message: error.message, hint: undefined, code: 'NotConfigured', kind: 'config' as const } : explainError(error);
    // The lookup is of a made-up task: naming it ("Poll task <uuid> failed") only puzzles; the address is what failed.
    if (error instanceof WanNetworkError && error.url) explained.message = vscode.l10n.t('Nothing answers at {0} ({1}).', error.url, error.errorCode ?? error.message);
    const hint = explained.hint ? ` ${explained.hint}` : '';
    // Whatever failed, the endpoint settings are a way on: machine-scoped, they are hard to find in a remote window.
    const next = [...new Set<NextStep>([...(adviceFor(explained.code, explained.kind)?.next ?? []), 'openSettings'])];
    result = { ok: false, message: `${explained.message}${hint}`, next };
    log.warn(`Connection check failed: ${result.message}${error instanceof WanApiError ? ` (HTTP ${error.httpStatus})` : ''}`);
  }
  if (result.ok) {
    log.info(`Connection check passed: ${result.baseUrl}${result.rehearsal ? ' (rehearsal emulator)' : ''}`);
    void vscode.window.showInformationMessage(
      result.rehearsal
        ? vscode.l10n.t('Connected to the local rehearsal emulator at {0}. Its videos are rehearsals, not Wan model output.', result.baseUrl)
        : vscode.l10n.t('Connected to {0}; the API key was accepted.', result.baseUrl),
    );
  } else {
    offerNextSteps(vscode.l10n.t('Connection check failed: {0}', result.message), result.next, () => testConnection(connections, log));
  }
  return result;
}

/** The error with a button per way on; each runs what the panel's and the notifications' buttons run. */
function offerNextSteps(message: string, next: readonly NextStep[], retry: () => unknown): void {
  const labels: Record<NextStep, string> = {
    setKey: vscode.l10n.t('Set Key'),
    openSettings: vscode.l10n.t('Open Settings'),
    retry: vscode.l10n.t('Retry'),
  };
  const run: Record<NextStep, () => unknown> = {
    setKey: () => vscode.commands.executeCommand(CommandIds.setApiKey),
    openSettings: () => openSettingsAt(endpointSettingId()),
    retry,
  };
  void vscode.window.showErrorMessage(message, ...next.map((n) => labels[n])).then((choice) => {
    const step = next.find((n) => labels[n] === choice);
    if (step) void run[step]();
  });
}
