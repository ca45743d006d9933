import * as vscode from 'vscode';
import { type ApiKeyProblem, type ApiKeyStore, checkApiKey } from '../secrets';

export interface ApiKeyCommandDeps {
  readonly apiKeys: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
}

function problemMessage(problem: ApiKeyProblem): string {
  return problem === 'empty'
    ? vscode.l10n.t('The API key must not be empty.')
    : vscode.l10n.t('The API key must not contain spaces.');
}

/** Asks for the key in a password box; undefined when the user cancels. */
async function promptForApiKey(): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Wan Studio: Set DashScope API Key'),
    prompt: vscode.l10n.t(
      'Paste your Alibaba Cloud Model Studio (DashScope) API key. It must belong to the same region as the endpoint. It is kept in VS Code secret storage.',
    ),
    placeHolder: 'sk-…',
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => {
      const problem = checkApiKey(value);
      return problem ? problemMessage(problem) : undefined;
    },
  });
}

/**
 * `wanStudio.setApiKey [key]`: with a string argument (automation, tests) stores it directly,
 * otherwise asks for it. Resolves to true when a key was stored.
 */
export async function setApiKey(deps: ApiKeyCommandDeps, arg?: unknown): Promise<boolean> {
  const raw = typeof arg === 'string' ? arg : await promptForApiKey();
  if (raw === undefined) {
    deps.log.info('Setting the API key was cancelled.');
    return false;
  }
  const problem = checkApiKey(raw);
  if (problem) {
    deps.log.warn(`API key refused (${problem}); nothing stored.`);
    void vscode.window.showErrorMessage(problemMessage(problem));
    return false;
  }
  await deps.apiKeys.set(raw);
  deps.log.info('API key stored in secret storage.');
  void vscode.window.showInformationMessage(vscode.l10n.t('The API key is saved in VS Code secret storage.'));
  return true;
}

/** `wanStudio.clearApiKey`: removes the stored key. Resolves to true when there was one. */
export async function clearApiKey(deps: ApiKeyCommandDeps): Promise<boolean> {
  const had = await deps.apiKeys.has();
  await deps.apiKeys.clear();
  deps.log.info(had ? 'API key removed from secret storage.' : 'Clear API key: no key was stored.');
  void vscode.window.showInformationMessage(
    had ? vscode.l10n.t('The API key was removed.') : vscode.l10n.t('No API key was stored.'),
  );
  return had;
}
