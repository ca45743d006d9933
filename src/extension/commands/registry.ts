// Every command of the extension, from one map: command id → handler factory. The map's type requires a
// factory for each id in ids.ts, and ids.ts is checked against package.json by a unit test, so a command
// cannot be contributed without being registered (or the other way round).
import { explainError } from '../../wan/explain';
import { NotConfiguredError } from '../connection';
import { openSettingsAt } from '../settings';
import type { WanContext } from '../context';
import { deleteVideo } from '../gallery/deleteVideo';
import { clearApiKey, setApiKey } from './apiKey';
import { testConnection } from './connection';
import { continueTask, generate, generateAgain } from './generate';
import { continueVideo, generateFromImage, morphImages, openGenerator, useAsDrivingAudio } from './generator';
import { CommandIds, type CommandKey } from './ids';
import { playVideo } from './player';
import { makeStoryboard, newStoryboard, type StoryboardOptions } from './newStoryboard';
import { assembleBoardFilm, generateBoard } from './storyboard';
import { UserError } from '../userError';
import {
  addTaskById,
  cancelTask,
  clearFinished,
  copyPrompt,
  copyTaskId,
  createAgain,
  lookAgain,
  playTask,
  removeTask,
  retryDownload,
  revealTask,
  showTaskDetails,
  syncFromAccount,
} from './tasks';

// Commands receive whatever VS Code or a caller passes.
type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
type Factory = (ctx: WanContext) => Handler;

export const COMMAND_FACTORIES: Record<CommandKey, Factory> = {
  setApiKey: (ctx) => (arg?: unknown) => setApiKey(ctx, arg),
  clearApiKey: (ctx) => () => clearApiKey(ctx),
  showLog: (ctx) => () => ctx.log.show(true),
  // Links in the welcome view and the walkthrough name a setting; on the tab that can hold it (machine-scoped
  // ones live under Remote in a remote window such as code-server).
  openSettings: () => (arg?: unknown) => openSettingsAt(typeof arg === 'string' && /^wanStudio(\.[\w.]+)?$/.test(arg) ? arg : 'wanStudio'),
  testConnection: (ctx) => () => testConnection(ctx.connections, ctx.log),
  playVideo: (ctx) => (arg?: unknown) => playVideo(ctx.players, ctx.log, arg),
  // Without a request (the Tasks view's New Generation, the palette) it opens the generation panel.
  generate: (ctx) => (arg?: unknown) => (arg === undefined ? openGenerator(ctx.generators) : generate(ctx, arg)),
  addTaskById: (ctx) => (arg?: unknown) => addTaskById(ctx, arg),
  syncFromAccount: (ctx) => () => syncFromAccount(ctx),
  clearFinished: (ctx) => () => clearFinished(ctx),
  playTask: (ctx) => (arg?: unknown) => playTask(ctx, arg),
  revealTask: (ctx) => (arg?: unknown) => revealTask(ctx, arg),
  cancelTask: (ctx) => (arg?: unknown) => cancelTask(ctx, arg),
  retryDownload: (ctx) => (arg?: unknown) => retryDownload(ctx, arg),
  copyTaskId: (ctx) => (arg?: unknown) => copyTaskId(ctx, arg),
  copyPrompt: (ctx) => (arg?: unknown) => copyPrompt(ctx, arg),
  generateAgain: (ctx) => (arg?: unknown, options?: { confirm?: boolean }) => generateAgain(ctx, arg, options),
  continueTask: (ctx) => (arg?: unknown, options?: { prompt?: string; duration?: number }) => continueTask(ctx, arg, options),
  lookAgain: (ctx) => (arg?: unknown) => lookAgain(ctx, arg),
  createAgain: (ctx) => (arg?: unknown, options?: { confirm?: boolean }) => createAgain(ctx, arg, options),
  removeTask: (ctx) => (arg?: unknown, options?: { confirm?: boolean }) => removeTask(ctx, arg, options),
  showTaskDetails: (ctx) => (arg?: unknown) => showTaskDetails(ctx, arg),
  openGenerator: (ctx) => (arg?: unknown) => openGenerator(ctx.generators, arg),
  generateFromImage: (ctx) => (arg?: unknown, all?: unknown) => generateFromImage(ctx.generators, arg, all),
  morphImages: (ctx) => (arg?: unknown, all?: unknown) => morphImages(ctx.generators, arg, all),
  continueVideo: (ctx) => (arg?: unknown, all?: unknown) => continueVideo(ctx.generators, arg, all),
  useAsDrivingAudio: (ctx) => (arg?: unknown, all?: unknown) => useAsDrivingAudio(ctx.generators, arg, all),
  deleteVideo: (ctx) => (arg?: unknown, options?: { confirm?: boolean }) => deleteVideo(ctx, arg, options),
  refreshGallery: (ctx) => () => ctx.gallery.refresh(),
  // The Tasks view's title bar passes nothing; a caller may pass a folder and the name.
  newStoryboard: () => (arg?: unknown, options?: StoryboardOptions) => newStoryboard(arg, options),
  makeStoryboard: () => (arg?: unknown, all?: unknown, options?: StoryboardOptions) => makeStoryboard(arg, all, options),
  generateStoryboard: (ctx) => (arg?: unknown) => generateBoard(ctx, arg),
  assembleStoryboard: (ctx) => (arg?: unknown) => assembleBoardFilm(ctx, arg),
};

/** A failing command tells the user why and resolves to undefined; it never takes the extension host down. */
function guarded(ctx: WanContext, id: string, handler: Handler): Handler {
  return async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      const message = error instanceof UserError || error instanceof NotConfiguredError ? error.message : explainError(error).message;
      ctx.log.error(`${id}: ${error instanceof UserError || error instanceof NotConfiguredError ? message : error instanceof Error ? (error.stack ?? message) : message}`);
      ctx.notifier.error(message);
      return undefined;
    }
  };
}

/** Every command's handler by id (the activation shell registered the ids and hands their calls over to these). */
export function commandHandlers(ctx: WanContext): Map<string, Handler> {
  return new Map((Object.keys(COMMAND_FACTORIES) as CommandKey[]).map((key) => [CommandIds[key], guarded(ctx, CommandIds[key], COMMAND_FACTORIES[key](ctx))]));
}

export function registeredCommandIds(): string[] {
  return (Object.keys(COMMAND_FACTORIES) as CommandKey[]).map((k) => CommandIds[k]);
}
