// The ways into the generation panel: the palette, the explorer (an image, two images, a video, an audio
// file) and the image preview's title bar. Each opens the panel (or fills the open one) with a request
// holding only what it chose (see src/tasks/entryDraft.ts).
import * as vscode from 'vscode';
import type { GeneratorHandle, GeneratorManager } from '../panel/manager';
import { kindOf, type FileKind } from '../panel/prefill';

/** The explorer passes the clicked item and, with a multi-selection, every selected one. */
export function selection(arg: unknown, all: unknown): vscode.Uri[] {
  const many = Array.isArray(all) ? all.filter((u): u is vscode.Uri => u instanceof vscode.Uri) : [];
  if (many.length) return many;
  if (arg instanceof vscode.Uri) return [arg];
  // The image preview's title action may come without an argument: use the active tab.
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom) return [input.uri];
  return [];
}

export function ofKind(uris: vscode.Uri[], kind: FileKind): string[] {
  return uris.map((u) => u.fsPath).filter((p) => kindOf(p) === kind);
}

function refuse(message: string): undefined {
  void vscode.window.showErrorMessage(message);
  return undefined;
}

/** `wanStudio.openGenerator [{ prefill?: Partial<TaskRequest>, mode?: 'animate'|'morph'|'continue' }]`. */
export function openGenerator(generators: GeneratorManager, arg?: unknown): Promise<GeneratorHandle> {
  return generators.open(arg);
}

/** Explorer (one or more images) or image preview: Animate, a batch for several. */
export function generateFromImage(generators: GeneratorManager, arg?: unknown, all?: unknown): Promise<GeneratorHandle> {
  const images = ofKind(selection(arg, all), 'image');
  if (images.length === 0) return generators.open({ mode: 'animate' });
  const [first, ...rest] = images;
  return generators.open({ mode: 'animate', prefill: { firstFrame: first } }, rest);
}

/** Explorer, two images: the first selected is the first frame. */
export async function morphImages(generators: GeneratorManager, arg?: unknown, all?: unknown): Promise<GeneratorHandle | undefined> {
  const images = ofKind(selection(arg, all), 'image');
  if (images.length !== 2) return refuse(vscode.l10n.t('Select exactly two images to morph between (the first selected becomes the first frame).'));
  return generators.open({ mode: 'morph', prefill: { firstFrame: images[0], lastFrame: images[1] } });
}

/** Explorer, a video: continue it (sent as first_clip). */
export async function continueVideo(generators: GeneratorManager, arg?: unknown, all?: unknown): Promise<GeneratorHandle | undefined> {
  const [clip] = ofKind(selection(arg, all), 'video');
  if (!clip) return refuse(vscode.l10n.t('Choose an MP4 or MOV video to continue.'));
  return generators.open({ mode: 'continue', prefill: { firstClip: clip } });
}

/** Explorer, an MP3 or WAV: the driving audio of the form. */
export async function useAsDrivingAudio(generators: GeneratorManager, arg?: unknown, all?: unknown): Promise<GeneratorHandle | undefined> {
  const [audio] = ofKind(selection(arg, all), 'audio');
  if (!audio) return refuse(vscode.l10n.t('Choose an MP3 or WAV file to use as driving audio.'));
  return generators.open({ prefill: { drivingAudio: audio } });
}
