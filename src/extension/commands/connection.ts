import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { NotConfiguredError, type ConnectionFactory } from '../connection';
import { WanApiError, WanNetworkError, explainError } from '../../wan';
import { adviceFor, type NextStep } from '../../wan/explain';
import type { RetryPolicy } from '../../wan/retry';
import { isEmulatorAt } from '../../emulator/identity';
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

/**
 * A failed check says what failed and the ways on it offers as buttons (the endpoint settings always among
 * them); one the user canceled says only that.
 */
export type ConnectionCheck =
  | {
      ok: true;
      baseUrl: string;
      rehearsal: boolean;
      /** A custom endpoint where a rehearsal emulator answers: free, yet counted as paid (spend, caps) as every custom endpoint is. */
      emulatorAsPaid?: true;
    }
  | { ok: false; message: string; next: NextStep[]; canceled?: true };

/**
 * The check is waited on: one retry rides out a blip, and an endpoint that is down is told in about a second,
 * not after the six tries and their backoff (about 8 s) the task engine allows itself. A throttled answer
 * with a long Retry-After is told as it is (throttling), not waited out into "no answer" at the deadline.
 */
const CHECK_RETRY: Partial<RetryPolicy> = { maxAttempts: 2, maxRetryAfterMs: 2000 };
/** All the check waits for an answer: a host that drops every packet would otherwise hold it for two 10 s connect timeouts and more. */
const CHECK_DEADLINE_S = 20;

/**
 * `wanStudio.testConnection`: checks that the endpoint answers and accepts the stored key, with a
 * free read (a task lookup), never a create, under a progress notification that can cancel it.
 * Resolves to the outcome so automation can use it.
 */
export async function testConnection(connections: ConnectionFactory, log: vscode.LogOutputChannel): Promise<ConnectionCheck> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Wan Studio: testing the connection…'), cancellable: true },
    (_progress, token) => check(connections, log, token),
  );
  if (result.ok && result.emulatorAsPaid) {
    log.info(`Connection check passed: ${result.baseUrl} (a rehearsal emulator, set as a custom endpoint)`);
    const settings = vscode.l10n.t('Open Settings');
    void vscode.window
      .showInformationMessage(
        vscode.l10n.t(
          'Connected to {0}, a Wan Studio rehearsal emulator. As a custom endpoint it counts as paid: its videos count toward spend and the caps. To rehearse for free, set wanStudio.endpoint to emulator.',
          result.baseUrl,
        ),
        settings,
      )
      .then((choice) => {
        if (choice === settings) void openSettingsAt('wanStudio.endpoint');
      });
  } else if (result.ok) {
    log.info(`Connection check passed: ${result.baseUrl}${result.rehearsal ? ' (rehearsal emulator)' : ''}`);
    void vscode.window.showInformationMessage(
      result.rehearsal
        ? vscode.l10n.t('Connected to the local rehearsal emulator at {0}. Its videos are rehearsals, not Wan model output.', result.baseUrl)
        : vscode.l10n.t('Connected to {0}; the API key was accepted.', result.baseUrl),
    );
  } else if (result.canceled) {
    log.info('Connection check canceled');
  } else {
    offerNextSteps(vscode.l10n.t('Connection check failed: {0}', result.message), result.next, () => testConnection(connections, log));
  }
  return result;
}

async function check(connections: ConnectionFactory, log: vscode.LogOutputChannel, token: vscode.CancellationToken): Promise<ConnectionCheck> {
  const abort = new AbortController();
  const canceling = token.onCancellationRequested(() => abort.abort());
  let timedOut = false;
  let deadline: NodeJS.Timeout | undefined;
  let baseUrl: string | undefined;
  try {
    const connection = await connections.connect(undefined, { retry: CHECK_RETRY });
    baseUrl = connection.baseUrl;
    // From the first request on: starting the embedded emulator before it is not the endpoint's answer.
    deadline = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, CHECK_DEADLINE_S * 1000);
    try {
      try {
        await connection.client.getTask(randomUUID(), { signal: abort.signal });
      } catch (error) {
        if (!keyAccepted(error)) throw error;
      }
      // Asked on loopback only (identity.ts), after the check passed: a gateway is never sent more.
      const emulatorAsPaid = !connection.rehearsal && (await isEmulatorAt(baseUrl));
      return { ok: true, baseUrl, rehearsal: connection.rehearsal, ...(emulatorAsPaid ? { emulatorAsPaid: true as const } : {}) };
    } finally {
      await connection.client.close();
    }
  } catch (error) {
    if (abort.signal.aborted && !timedOut) return { ok: false, canceled: true, message: vscode.l10n.t('The connection check was canceled.'), next: [] };
    if (abort.signal.aborted) {
      const message = vscode.l10n.t('No answer from {0} within {1} s.', baseUrl ?? '?', CHECK_DEADLINE_S);
      log.warn(`Connection check failed: ${message}`);
      return { ok: false, message, next: ['retry', 'openSettings'] };
    }
    const explained = error instanceof NotConfiguredError ? { message: error.message, hint: undefined, code: 'NotConfigured', kind: 'config' as const } : explainError(error);
    // The lookup is of a made-up task: naming it ("Poll task <uuid> failed") only puzzles; the address is what failed.
    if (error instanceof WanNetworkError && error.url) explained.message = vscode.l10n.t('Nothing answers at {0} ({1}).', error.url, error.errorCode ?? error.message);
    const hint = explained.hint ? ` ${explained.hint}` : '';
    // Whatever failed, the endpoint settings are a way on: machine-scoped, they are hard to find in a remote window.
    const next = [...new Set<NextStep>([...(adviceFor(explained.code, explained.kind)?.next ?? []), 'openSettings'])];
    log.warn(`Connection check failed: ${explained.message}${hint}${error instanceof WanApiError ? ` (HTTP ${error.httpStatus})` : ''}`);
    return { ok: false, message: `${explained.message}${hint}`, next };
  } finally {
    clearTimeout(deadline);
    canceling.dispose();
  }
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
