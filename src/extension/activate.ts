import * as vscode from 'vscode';
import { registerApiKeyCommands } from './commands/apiKey';
import { registerConnectionCommands } from './commands/connection';
import { registerGenerateCommands } from './commands/generator';
import { registerLogCommands } from './commands/log';
import { registerPlayerCommands } from './commands/player';
import { ConnectionFactory } from './connection';
import { EmulatorProcess } from './emulatorProcess';
import { DraftBackup } from './panel/draftBackup';
import { GeneratorManager } from './panel/manager';
import { InterimTasks } from './panel/interimTasks';
import { PlayerManager } from './player';
import { ApiKeyStore } from './secrets';

/** What the extension exports to `vscode.extensions.getExtension(...).exports`. Never exposes the key. */
export interface WanStudioApi {
  /** First 12 hex chars of the SHA-256 of the stored API key, or undefined when none is stored. */
  apiKeyFingerprint(): Promise<string | undefined>;
}

export function activate(context: vscode.ExtensionContext): WanStudioApi {
  const log = vscode.window.createOutputChannel('Wan Studio', { log: true });
  const apiKeys = new ApiKeyStore(context.secrets);
  const emulator = new EmulatorProcess(vscode.Uri.joinPath(context.extensionUri, 'dist', 'emulator.js').fsPath, log);
  const connections = new ConnectionFactory(apiKeys, emulator, log);
  const players = new PlayerManager(context.extensionUri, log);
  const tasks = new InterimTasks(context.globalStorageUri, connections, log);
  const backup = new DraftBackup((context.storageUri ?? context.globalStorageUri).fsPath, (m) => log.warn(m));
  const generators = new GeneratorManager({ extensionUri: context.extensionUri, log, tasks, memento: context.globalState, backup });

  context.subscriptions.push(
    log,
    apiKeys,
    emulator,
    ...registerApiKeyCommands({ apiKeys, log }),
    ...registerLogCommands(log),
    ...registerConnectionCommands(connections, log),
    ...[players, ...registerPlayerCommands(players, log)],
    tasks,
    backup,
    ...[generators, ...registerGenerateCommands(generators)],
  );

  log.info(`Wan Studio ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version}).`);
  return {
    apiKeyFingerprint: () => apiKeys.fingerprint(),
  };
}

export function deactivate(): void {
  // Everything is released through context.subscriptions.
}
