import * as vscode from 'vscode';
import { CommandIds } from './ids';

/** `wanStudio.showLog`: reveals the Wan Studio log channel. */
export function registerLogCommands(log: vscode.LogOutputChannel): vscode.Disposable[] {
  return [vscode.commands.registerCommand(CommandIds.showLog, () => log.show(true))];
}
