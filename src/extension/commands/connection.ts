import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { NotConfiguredError, type ConnectionFactory } from '../connection';
import { WanApiError, explainError } from '../../wan';

/**
 * The service checks the key before it looks the task up, so a lookup of a task that cannot exist
 * (UNKNOWN, or a 400/404 about the ID) proves the endpoint answers and accepts the key.
 */
function keyAccepted(error: unknown): boolean {
  // Only a DashScope error body counts: a web server's own 404 page says nothing about the key.
  return error instanceof WanApiError && (error.httpStatus === 400 || error.httpStatus === 404) && !error.code.startsWith('HTTP');
}

export type ConnectionCheck = { ok: true; baseUrl: string; rehearsal: boolean } | { ok: false; message: string };

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
    const explained = error instanceof NotConfiguredError ? { message: error.message } : explainError(error);
    const hint = 'hint' in explained && explained.hint ? ` ${explained.hint}` : '';
    result = { ok: false, message: `${explained.message}${hint}` };
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
    void vscode.window.showErrorMessage(vscode.l10n.t('Connection check failed: {0}', result.message));
  }
  return result;
}
