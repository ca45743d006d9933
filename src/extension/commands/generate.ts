// Commands that create tasks without the generation panel: New Generation with a request object (for
// programs and keybindings), Generate Again and Continue This Video. Every request goes
// through the task engine, which checks it completely before queuing anything.
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { VideoFactsSchema, continueArgs, generateAgainArgs, type VideoFacts } from '../../player/facts';
import { TaskRequestSchema, type TaskRecord, type TaskRequest } from '../../tasks/record';
import { sidecarFor } from '../../tasks/sidecar';
import { WanValidationError } from '../../wan/errors';
import { DURATION_DEFAULT_S, DURATION_MAX_S, PROMPT_MAX_CHARS } from '../../wan/limits';
import { validateLocalMedia } from '../../wan/media';
import { billedSeconds, continuationDurations } from '../../wan/sizing';
import type { WanContext } from '../context';
import { BudgetRefusal } from '../tasks/budget';
import { placeRequest } from '../tasks/outputFolder';
import { label, savedFile } from '../tasks/present';
import { CommandIds } from './ids';
import { generateFromImage } from './generator';
import { resolveTask } from './taskArgs';

const SOURCE_FIELDS = ['firstFrame', 'lastFrame', 'drivingAudio', 'firstClip'] as const;
const REQUEST_FIELDS = new Set(Object.keys(TaskRequestSchema.shape));

/** A path relative to the first workspace folder, a file: URI or a vscode.Uri becomes an absolute path. */
function toSource(value: unknown): unknown {
  if (value instanceof vscode.Uri) return value.scheme === 'file' ? value.fsPath : value.toString();
  if (typeof value !== 'string') return value;
  if (/^file:\/\//i.test(value)) return vscode.Uri.parse(value).fsPath;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) return value; // http(s), oss, data
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return isAbsolute(value) || !root ? value : join(root, value);
}

/** The command's argument as a request; unknown fields are refused rather than silently dropped. */
export function requestFromArgument(arg: object): TaskRequest {
  const unknown = Object.keys(arg).filter((k) => !REQUEST_FIELDS.has(k));
  if (unknown.length) {
    throw new WanValidationError(unknown.map((k) => ({ field: k, message: `is not a request field (expected one of ${[...REQUEST_FIELDS].join(', ')})` })));
  }
  const raw: Record<string, unknown> = { ...arg };
  for (const f of SOURCE_FIELDS) if (raw[f] !== undefined) raw[f] = toSource(raw[f]);
  const parsed = TaskRequestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WanValidationError(parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'request', message: i.message })));
  }
  return parsed.data;
}

/** Queues `request` on the configured endpoint; undefined when the user backed out or it was refused (they were told why). */
export async function submitRequest(ctx: WanContext, request: TaskRequest, where: { workspaceFolder?: string; outputFolder?: string } = {}): Promise<TaskRecord | undefined> {
  // The endpoint and the key are checked before anything else (no key: nothing is queued).
  const { client, endpoint } = await ctx.connections.connect();
  await client.close();
  const place = await placeRequest(request, where);
  if (!place) return undefined;
  try {
    const [record] = await ctx.tasks.submit([{ request, ...place }], endpoint);
    if (!record) return undefined;
    ctx.log.info(`Task ${record.id}: queued "${label(record)}" (${record.request.duration ?? DURATION_DEFAULT_S} s ${record.request.resolution ?? '1080P'})`);
    return record;
  } catch (error) {
    // The user kept to their spend cap: the dialog said what was (not) sent.
    if (error instanceof BudgetRefusal) return undefined;
    if (!(error instanceof WanValidationError)) throw error;
    const issues = error.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    ctx.log.warn(`Request refused before anything was sent: ${issues}`);
    ctx.notifier.error(vscode.l10n.t('Nothing was requested (nothing was sent or billed): {0}', issues));
    return undefined;
  }
}

function askDuration(title: string, min: number, value: number): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('Total length in seconds ({0}–{1}). Billing is per second of output.', min, DURATION_MAX_S),
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const n = Number(v);
      return Number.isInteger(n) && n >= min && n <= DURATION_MAX_S ? undefined : vscode.l10n.t('A whole number from {0} to {1}.', min, DURATION_MAX_S);
    },
  });
}

function askPrompt(title: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('What should happen in the video? (optional)'),
    placeHolder: vscode.l10n.t('e.g. the cat slowly turns its head and blinks'),
    ignoreFocusOut: true,
    validateInput: (v) => ([...v].length > PROMPT_MAX_CHARS ? vscode.l10n.t('At most {0} characters.', PROMPT_MAX_CHARS) : undefined),
  });
}

/**
 * `wanStudio.generate request`: a request object (`{firstFrame, prompt, duration, …}`, file paths or URLs) is
 * queued at once. Without one the command opens the generation panel (registry.ts); with an image's URI it
 * opens the panel from that image, as the Explorer does, so nothing is sent that the user did not see.
 * Resolves to the queued task record, or undefined (refused or backed out of).
 */
export async function generate(ctx: WanContext, arg: unknown): Promise<TaskRecord | undefined> {
  if (arg instanceof vscode.Uri) {
    await generateFromImage(ctx.generators, arg);
    return undefined;
  }
  let request: TaskRequest;
  try {
    if (!arg || typeof arg !== 'object') throw new WanValidationError([{ field: 'request', message: `must be an object such as {"firstFrame": "inputs/cat.png"}, not ${JSON.stringify(arg)}` }]);
    request = requestFromArgument(arg);
  } catch (error) {
    if (!(error instanceof WanValidationError)) throw error;
    const issues = error.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    ctx.notifier.error(vscode.l10n.t('Nothing was requested (nothing was sent or billed): {0}', issues));
    return undefined;
  }
  return submitRequest(ctx, request);
}

/** A record's facts in the sidecar's shape, which the player's hand-offs to the panel take. */
function factsOf(r: TaskRecord): VideoFacts {
  return VideoFactsSchema.parse(sidecarFor(r, savedFile(r) ?? '', r.save?.bytes ?? 0));
}

/**
 * `wanStudio.task.generateAgain task`: opens the generation panel with the same request. With options
 * (`{confirm}`), for programs: the same request as a new (billed) task, after a confirmation that says what
 * it costs unless `confirm: false`.
 */
export async function generateAgain(ctx: WanContext, arg?: unknown, options?: { confirm?: boolean }): Promise<TaskRecord | undefined> {
  const r = resolveTask(ctx, arg);
  if (!r.request.firstFrame && !r.request.firstClip) {
    ctx.notifier.error(vscode.l10n.t('"{0}" was added by its task ID, so its inputs are unknown; it cannot be generated again.', label(r)), r.id);
    return undefined;
  }
  // From the tree: the generation panel, prefilled, where the user sees the cost and may change anything.
  if (options === undefined) {
    await vscode.commands.executeCommand(CommandIds.openGenerator, generateAgainArgs(factsOf(r), r.request.seed));
    return undefined;
  }
  if (options?.confirm !== false) {
    const rehearsal = (await ctx.connections.endpoint()).kind === 'emulator';
    const seconds = billedSeconds(r.request.duration ?? DURATION_DEFAULT_S);
    const go = vscode.l10n.t('Generate Again');
    const question = rehearsal
      ? vscode.l10n.t('Generate "{0}" again on the rehearsal emulator ({1} s, free)?', label(r), seconds)
      : vscode.l10n.t('Generate "{0}" again? This creates a new task, billed {1} s of {2} video.', label(r), seconds, r.request.resolution ?? '1080P');
    if ((await vscode.window.showWarningMessage(question, { modal: true }, go)) !== go) return undefined;
  }
  return submitRequest(ctx, r.request, { workspaceFolder: r.workspaceFolder, outputFolder: r.outputFolder });
}

/**
 * `wanStudio.task.continueVideo task`: opens the generation panel with the saved video as the first clip.
 * With options (`{prompt, duration}`), for programs: the new task at once, asking for what is not given.
 */
export async function continueTask(ctx: WanContext, arg?: unknown, options?: { prompt?: string; duration?: number }): Promise<TaskRecord | undefined> {
  const r = resolveTask(ctx, arg);
  const file = savedFile(r);
  if (!file) {
    ctx.notifier.error(vscode.l10n.t('"{0}" has no saved video to continue.', label(r)), r.id);
    return undefined;
  }
  let clipSeconds: number;
  try {
    clipSeconds = (await validateLocalMedia('first_clip', file)).durationSeconds;
  } catch (error) {
    if (!(error instanceof WanValidationError)) throw error;
    ctx.notifier.error(vscode.l10n.t('This video cannot be continued: {0}', error.issues.map((i) => i.message).join('; ')), r.id);
    return undefined;
  }
  if (options === undefined) {
    await vscode.commands.executeCommand(CommandIds.openGenerator, continueArgs(file, factsOf(r)));
    return undefined;
  }
  const prompt = options.prompt ?? (await askPrompt(vscode.l10n.t('Continue This Video (1/2): prompt')));
  if (prompt === undefined) return undefined;
  const { min, suggested } = continuationDurations(clipSeconds);
  const duration = options.duration ?? Number((await askDuration(vscode.l10n.t('Continue This Video (2/2): total duration, clip included'), min, suggested)) ?? Number.NaN);
  if (Number.isNaN(duration)) return undefined;
  return submitRequest(
    ctx,
    { firstClip: file, prompt: prompt.trim() || undefined, duration, resolution: r.request.resolution },
    { workspaceFolder: r.workspaceFolder, outputFolder: r.outputFolder },
  );
}
