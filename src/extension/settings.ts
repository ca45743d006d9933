// Reads the endpoint settings. They are machine-scoped: only user (or machine) values count, so a
// workspace can never redirect the key to a server of its choosing.
import * as vscode from 'vscode';
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

export function affectsEndpoint(e: vscode.ConfigurationChangeEvent): boolean {
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
