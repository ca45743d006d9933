// A storyboard's Generate lives in its window: the continuation shots it had not sent yet wait for a clip that
// window was waiting on. When the window goes first (a reload, a crash), the next one says so and offers to
// send them, rather than leaving the film half made without a word. Nothing is sent without the user's Resume.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { CommandIds } from '../commands/ids';
import type { TaskNotifier } from '../tasks/notifier';
import { STORYBOARD_VIEW_TYPE } from '../viewIds';
import type { StoryboardService } from './service';

export function offerInterruptedRuns(service: StoryboardService, notifier: TaskNotifier, log: vscode.LogOutputChannel): void {
  for (const board of service.interrupted) {
    if (!existsSync(board)) {
      log.info(`Storyboard ${board}: its Generate was cut short, but the board is gone`);
      continue;
    }
    log.info(`Storyboard ${board}: its Generate was cut short when the last window went`);
    const uri = vscode.Uri.file(board);
    notifier.boardInterrupted(board, {
      resume: () => vscode.commands.executeCommand(CommandIds.generateStoryboard, uri),
      open: () => vscode.commands.executeCommand('vscode.openWith', uri, STORYBOARD_VIEW_TYPE),
    });
  }
}
