import * as vscode from 'vscode';
import type { GeneratorHandle, GeneratorManager } from '../panel/manager';
import { kindOf, type FileKind } from '../panel/prefill';
import { CommandIds } from './ids';

/** The explorer passes the clicked item and, with a multi-selection, every selected one. */
function selection(arg: unknown, all: unknown): vscode.Uri[] {
  const many = Array.isArray(all) ? all.filter((u): u is vscode.Uri => u instanceof vscode.Uri) : [];
  if (many.length) return many;
  if (arg instanceof vscode.Uri) return [arg];
  // The editor title action of the image preview has no argument in some hosts: use the active tab.
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom) return [input.uri];
  return [];
}

function ofKind(uris: vscode.Uri[], kind: FileKind): string[] {
  return uris.map((u) => u.fsPath).filter((p) => kindOf(p) === kind);
}

function refuse(message: string): undefined {
  void vscode.window.showErrorMessage(message);
  return undefined;
}

export function registerGenerateCommands(generators: GeneratorManager): vscode.Disposable[] {
  const open = (arg: unknown, batch?: string[]) => generators.open(arg, batch);
  return [
    // The contract the player (and anyone) uses: { prefill?: Partial<TaskRequest>, mode?: 'animate'|'morph'|'continue' }.
    vscode.commands.registerCommand(CommandIds.openGenerator, (arg?: unknown): GeneratorHandle => open(arg)),
    vscode.commands.registerCommand(CommandIds.generateFromImage, (arg?: unknown, all?: unknown): GeneratorHandle | undefined => {
      const images = ofKind(selection(arg, all), 'image');
      if (images.length === 0) return open({ mode: 'animate' });
      const [first, ...rest] = images;
      return open({ mode: 'animate', prefill: { firstFrame: first } }, rest);
    }),
    vscode.commands.registerCommand(CommandIds.morphImages, (arg?: unknown, all?: unknown): GeneratorHandle | undefined => {
      const images = ofKind(selection(arg, all), 'image');
      if (images.length !== 2) return refuse(vscode.l10n.t('Select exactly two images to morph between (the first selected becomes the first frame).'));
      return open({ mode: 'morph', prefill: { firstFrame: images[0], lastFrame: images[1] } });
    }),
    vscode.commands.registerCommand(CommandIds.continueVideo, (arg?: unknown, all?: unknown): GeneratorHandle | undefined => {
      const [clip] = ofKind(selection(arg, all), 'video');
      if (!clip) return refuse(vscode.l10n.t('Choose an MP4 or MOV video to continue.'));
      return open({ mode: 'continue', prefill: { firstClip: clip } });
    }),
    vscode.commands.registerCommand(CommandIds.useAsDrivingAudio, (arg?: unknown, all?: unknown): GeneratorHandle | undefined => {
      const [audio] = ofKind(selection(arg, all), 'audio');
      if (!audio) return refuse(vscode.l10n.t('Choose an MP3 or WAV file to use as driving audio.'));
      return open({ prefill: { drivingAudio: audio } });
    }),
  ];
}
