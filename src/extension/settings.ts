// Reads the endpoint settings. They are machine-scoped: only user (or machine) values count, so a
// workspace can never redirect the key to a server of its choosing.
import * as vscode from 'vscode';
import type { Caps, Prices } from '../tasks/spend';
import { EndpointSchema, resolveBaseUrl, type Endpoint } from '../wan/regions';

export const SECTION = 'wanStudio';

export type EndpointSetting = { kind: 'emulator' } | Endpoint;

function userValue<T>(config: vscode.WorkspaceConfiguration, key: string, fallback: T): T {
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}

/** The configured endpoint, or a plain-English reason why it is unusable. */
export function readEndpoint(): { endpoint: EndpointSetting } | { problem: string } {
  const config = vscode.workspace.getConfiguration(SECTION);
  const kind = userValue(config, 'endpoint', 'emulator');
  if (kind === 'emulator') return { endpoint: { kind } };
  const parsed = EndpointSchema.safeParse({
    kind,
    workspaceId: userValue(config, 'workspaceId', ''),
    baseUrl: userValue(config, 'customBaseUrl', ''),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = issue?.path[0] === 'workspaceId' ? 'wanStudio.workspaceId' : issue?.path[0] === 'baseUrl' ? 'wanStudio.customBaseUrl' : 'wanStudio.endpoint';
    return { problem: vscode.l10n.t('Setting {0}: {1}', setting, issue?.message ?? '') };
  }
  try {
    resolveBaseUrl(parsed.data);
  } catch (error) {
    return { problem: vscode.l10n.t('Setting {0}: {1}', 'wanStudio.customBaseUrl', (error as Error).message) };
  }
  return { endpoint: parsed.data };
}

/**
 * Opens the Settings editor at `setting`, on the tab that can hold it. The endpoint settings are
 * machine-scoped: in a remote window (code-server, SSH, WSL, a container) they are listed under the
 * Remote tab only, so that is where they open there. Resolves to the tab used.
 */
export async function openSettingsAt(setting: string): Promise<'remote' | 'user'> {
  // Registered only in a window with a remote: the surest sign there is a Remote tab.
  const remote = (await vscode.commands.getCommands(true)).includes('workbench.action.openRemoteSettings');
  // An options object: openRemoteSettings drops a plain string (only openSettings reads it as the query).
  await vscode.commands.executeCommand(remote ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings', { query: setting });
  return remote ? 'remote' : 'user';
}

/** The setting to show for the configured endpoint: the base URL of a custom one, else the endpoint. */
export function endpointSettingId(): string {
  const kind = vscode.workspace.getConfiguration(SECTION).inspect<string>('endpoint')?.globalValue;
  return kind === 'custom' ? `${SECTION}.customBaseUrl` : kind === 'singapore-workspace' ? `${SECTION}.workspaceId` : `${SECTION}.endpoint`;
}

/** Any `wanStudio` setting: the endpoint, its URL or workspace, the output folder and the rest alike (cheap to re-check). */
export function affectsWanStudio(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SECTION);
}

export const OUTPUT_FOLDER_DEFAULT = 'videos';

/**
 * `wanStudio.outputFolder` as seen from a workspace folder (machine-overridable: a workspace may choose
 * where its own videos go). A relative value is relative to that workspace folder.
 */
export function readOutputFolder(scope?: vscode.Uri): string {
  const value = vscode.workspace.getConfiguration(SECTION, scope).get<string>('outputFolder', OUTPUT_FOLDER_DEFAULT).trim();
  return value || OUTPUT_FOLDER_DEFAULT;
}

/** A non-negative number, or undefined for an unset or unusable value. */
function amount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export interface BudgetSettings {
  caps: Caps;
  prices: Prices;
  /** ISO 4217 code the prices are in. */
  currency: string;
}

/**
 * `wanStudio.budget.*`: machine-scoped like the endpoint, so a workspace can neither lift a cap nor change
 * what a second costs.
 */
export function readBudget(): BudgetSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const prices = userValue<Record<string, unknown> | null>(config, 'budget.pricePerSecond', {}) ?? {};
  const currency = userValue<string>(config, 'budget.currency', 'USD').trim().toUpperCase();
  return {
    caps: {
      dailySeconds: amount(userValue<unknown>(config, 'budget.dailySeconds', null)),
      monthlySeconds: amount(userValue<unknown>(config, 'budget.monthlySeconds', null)),
    },
    prices: { '720P': amount(prices['720P']), '1080P': amount(prices['1080P']) },
    currency: /^[A-Z]{3}$/.test(currency) ? currency : 'USD',
  };
}

export function affectsBudget(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(`${SECTION}.budget`);
}
