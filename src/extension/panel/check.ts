// Runs the core's validation and probing on a draft, and says beside which field each problem goes.
// The core is the one source of truth: this file adds no limit of its own, only where to show each.
// No vscode import, so the l10n strings it needs are passed in.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  WanValidationError,
  billedSeconds,
  estimateOutputSize,
  isUrl,
  checkRequest,
  probeAudio,
  probeImage,
  probeVideo,
  validateLocalMedia,
  type LocalMediaType,
  type Size,
} from '../../wan';
import type { TaskRequest } from '../../tasks/record';
import { rehearsalSource, type RehearsalSource } from '../../tasks/rehearsal';
import { MODE_SLOTS, OPTIONAL_SLOTS, type Draft, type Field, type Issue, type Probe, type Slot, type Validation } from '../../protocol/generate';

export const SLOT_MEDIA: Record<Slot, LocalMediaType> = {
  firstFrame: 'first_frame',
  lastFrame: 'last_frame',
  drivingAudio: 'driving_audio',
  firstClip: 'first_clip',
};
const MEDIA_SLOT = Object.fromEntries(Object.entries(SLOT_MEDIA).map(([s, m]) => [m, s])) as Record<LocalMediaType, Slot>;
const KIND: Record<Slot, Probe['kind']> = { firstFrame: 'image', lastFrame: 'image', drivingAudio: 'audio', firstClip: 'video' };

/** The seed as typed: empty is "random" (undefined); anything else goes to the core as a number (NaN if not one). */
export function seedOf(draft: Draft): number | undefined {
  const text = draft.seed.trim();
  return text === '' ? undefined : Number(text);
}

/** The task requests a draft stands for: one, or one per image in a batch. Only the mode's inputs are sent. */
export function requestsOf(draft: Draft, seed = seedOf(draft)): TaskRequest[] {
  const used = new Set<Slot>(MODE_SLOTS[draft.mode]);
  const pick = (slot: Slot) => (used.has(slot) && draft[slot]?.trim() ? draft[slot].trim() : undefined);
  const base: TaskRequest = {
    firstFrame: pick('firstFrame'),
    lastFrame: pick('lastFrame'),
    drivingAudio: pick('drivingAudio'),
    firstClip: pick('firstClip'),
    prompt: draft.prompt || undefined,
    negativePrompt: draft.negativePrompt || undefined,
    resolution: draft.resolution,
    duration: draft.duration,
    seed,
    promptExtend: draft.promptExtend,
    watermark: draft.watermark,
  };
  for (const k of Object.keys(base) as (keyof TaskRequest)[]) if (base[k] === undefined) delete base[k];
  const extra = draft.mode === 'animate' ? draft.batch.filter((b) => b.trim()) : [];
  return [base, ...extra.map((firstFrame) => ({ ...base, firstFrame: firstFrame.trim() }))];
}

/** Maps a core field (`input.media[first_frame]`, `parameters.duration`, …) to the form field it belongs beside. */
export function fieldOf(coreField: string, mediaOrder: readonly Slot[] = []): Field {
  const named = /^input\.media\[(first_frame|last_frame|driving_audio|first_clip)\]/.exec(coreField);
  if (named) return MEDIA_SLOT[named[1] as LocalMediaType];
  const indexed = /^input\.media\[(\d+)\]/.exec(coreField);
  if (indexed) return mediaOrder[Number(indexed[1])] ?? 'media';
  if (coreField.startsWith('input.media')) return 'media';
  if (coreField === 'input.prompt' || coreField === 'prompt') return 'prompt';
  if (coreField === 'input.negative_prompt' || coreField === 'negativePrompt') return 'negativePrompt';
  const param = /^parameters\.(duration|seed|resolution)$|^(duration|seed|resolution)$/.exec(coreField);
  if (param) return (param[1] ?? param[2]) as Field;
  return 'request';
}

/** Turns a core validation error into form issues. */
export function issuesOf(error: WanValidationError, request?: TaskRequest): Issue[] {
  // checkRequest lists media in this order when it checks placeholder URLs.
  const order = (['firstFrame', 'firstClip', 'lastFrame', 'drivingAudio'] as const).filter((s) => request?.[s]);
  return error.issues.map((i) => ({ field: fieldOf(i.field, order), message: i.message, severity: 'error' as const }));
}

interface CacheEntry {
  key: string;
  probe: Probe;
  issues: string[];
}

export interface CheckText {
  /** "Choose {0}" style message for a required input left empty; gets the slot. */
  required(slot: Slot): string;
  /** The warning for a local audio or video file that must be uploaded from a region without the upload. */
  uploadRegion?(slot: Slot): string | undefined;
  /** The warning for an input the rehearsal emulator made (its video, or a frame of it) while requests go to a paid endpoint (else undefined). */
  rehearsalSource?(kind: RehearsalSource): string | undefined;
}

/** Probes and checks drafts, remembering each file's result until it changes on disk. */
export class DraftChecker {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly text: CheckText) {}

  /** Probes one local file for a slot (cached by path, size and mtime); URLs are passed through. */
  async probe(slot: Slot, source: string): Promise<{ probe: Probe; issues: string[] }> {
    const name = isUrl(source) ? source.replace(/[?#].*$/, '').split('/').pop() || source : basename(source);
    const kind = KIND[slot];
    if (isUrl(source)) return { probe: { source, name, isUrl: true, kind }, issues: [] };
    let key: string;
    try {
      const st = await stat(source);
      key = `${SLOT_MEDIA[slot]}|${st.size}|${st.mtimeMs}`;
    } catch {
      key = `${SLOT_MEDIA[slot]}|missing`;
    }
    const cached = this.cache.get(`${slot}:${source}`);
    if (cached?.key === key) return cached;
    const probe: Probe = { source, name, isUrl: false, kind };
    try {
      const info = kind === 'image' ? await probeImage(source) : kind === 'audio' ? await probeAudio(source) : await probeVideo(source);
      if (info) {
        probe.format = info.format;
        probe.bytes = info.bytes;
        if ('width' in info) Object.assign(probe, { width: info.width, height: info.height });
        if ('durationSeconds' in info) probe.durationSeconds = info.durationSeconds;
      }
    } catch {
      // The validation below says what is wrong with the file.
    }
    let issues: string[] = [];
    try {
      await validateLocalMedia(SLOT_MEDIA[slot], source);
    } catch (error) {
      if (!(error instanceof WanValidationError)) throw error;
      issues = error.issues.map((i) => i.message);
    }
    const entry = { key, probe, issues };
    this.cache.set(`${slot}:${source}`, entry);
    return entry;
  }

  /**
   * A rehearsal's videos and the frames taken from them sit beside the real ones: sent to a paid endpoint, the
   * model gets the stand-in, REHEARSAL label and all. A warning (still allowed), once per field.
   */
  private async rehearsalWarning(field: Field, source: string, issues: Issue[]): Promise<void> {
    if (!this.text.rehearsalSource?.('clip')) return; // the endpoint is the emulator: nothing to warn of
    const kind = await rehearsalSource(source);
    const message = kind && this.text.rehearsalSource(kind);
    if (message && !issues.some((i) => i.field === field && i.message === message)) issues.push({ field, message, severity: 'warning' });
  }

  async check(draft: Draft): Promise<Validation> {
    const issues: Issue[] = [];
    const probes: Validation['probes'] = {};
    const used = MODE_SLOTS[draft.mode];
    const required = used.filter((s) => !OPTIONAL_SLOTS[draft.mode].includes(s));
    const [request] = requestsOf(draft);

    for (const slot of used) {
      const source = draft[slot]?.trim();
      if (!source) {
        if (required.includes(slot)) issues.push({ field: slot, message: this.text.required(slot), severity: 'error' });
        continue;
      }
      const { probe, issues: found } = await this.probe(slot, source);
      probes[slot] = probe;
      for (const message of found) issues.push({ field: slot, message, severity: 'error' });
      if (!probe.isUrl && (slot === 'drivingAudio' || slot === 'firstClip')) {
        const warning = this.text.uploadRegion?.(slot);
        if (warning) issues.push({ field: slot, message: warning, severity: 'warning', actions: ['openSettings'] });
      }
      await this.rehearsalWarning(slot, source, issues);
    }

    const batchProbes: Probe[] = [];
    if (draft.mode === 'animate') {
      for (const source of draft.batch.map((b) => b.trim()).filter(Boolean)) {
        const { probe, issues: found } = await this.probe('firstFrame', source);
        batchProbes.push(probe);
        for (const message of found) issues.push({ field: 'batch', message, severity: 'error' });
        await this.rehearsalWarning('batch', source, issues);
      }
    }

    // Everything else (prompt lengths, duration, seed, the combination, a clip longer than the output)
    // comes from the same checkRequest the task layer runs: files probed, none read whole or uploaded.
    let outputSize: Size | undefined;
    let billed: number | undefined;
    if (request) {
      try {
        const prepared = await checkRequest(request);
        outputSize = prepared.outputSize;
        billed = prepared.billedSeconds;
      } catch (error) {
        if (!(error instanceof WanValidationError)) throw error;
        const missing = required.some((s) => !draft[s]?.trim());
        for (const issue of issuesOf(error, request)) {
          if (missing && issue.field === 'media') continue; // already said beside the empty input
          if (!issues.some((i) => i.field === issue.field && i.message === issue.message)) issues.push(issue);
        }
      }
    }
    const durationOk = !issues.some((i) => i.field === 'duration');
    if (billed === undefined && durationOk) billed = billedSeconds(draft.duration);
    if (!outputSize) {
      const basis = draft.mode === 'continue' ? probes.firstClip : probes.firstFrame;
      if (basis?.width && basis.height) outputSize = estimateOutputSize({ width: basis.width, height: basis.height }, draft.resolution);
    }
    const taskCount = draft.mode === 'animate' ? 1 + batchProbes.length : 1;
    return {
      issues,
      probes,
      batchProbes,
      outputSize,
      billedSeconds: billed === undefined ? undefined : billed * taskCount,
      taskCount,
      canGenerate: !issues.some((i) => i.severity === 'error'),
    };
  }
}
