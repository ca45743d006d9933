// The player's localized strings and the lines of facts it shows, formatted on the host (the page has no
// English of its own).
import * as vscode from 'vscode';
import type { VideoFacts } from '../player/facts';
import type { Fact, PlayerLabels } from '../protocol/player';

export function playerLabels(): PlayerLabels {
  return {
    size: vscode.l10n.t('Size'),
    duration: vscode.l10n.t('Duration'),
    dimensions: vscode.l10n.t('Dimensions'),
    loading: vscode.l10n.t('Loading…'),
    mediaError: vscode.l10n.t('This video cannot be played: {0}'),
    details: vscode.l10n.t('How it was made'),
    openSystem: vscode.l10n.t('Open in System Player'),
    reveal: vscode.l10n.t('Reveal in Explorer'),
    copyPrompt: vscode.l10n.t('Copy Prompt'),
    generateAgain: vscode.l10n.t('Generate Again…'),
    continueVideo: vscode.l10n.t('Continue This Video'),
    useFrame: vscode.l10n.t('Use This Frame'),
    frameError: vscode.l10n.t('The frame could not be captured: {0}'),
  };
}

const seconds = (n: number, locale: string) =>
  new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 2 }).format(n);

/** The facts from a sidecar or record as label/value lines; empty when nothing is known. */
export function playerFacts(f: VideoFacts | undefined, locale: string): Fact[] {
  if (!f) return [];
  const rows: Fact[] = [];
  const add = (label: string, value: string | undefined, long = false) => {
    if (value !== undefined && value !== '') rows.push(long ? { label, value, long } : { label, value });
  };
  add(vscode.l10n.t('Prompt'), f.prompt, true);
  add(vscode.l10n.t('Prompt as the service recorded it'), f.orig_prompt, true);
  add(vscode.l10n.t('Negative prompt'), f.negative_prompt, true);
  add(vscode.l10n.t('Seed'), f.seed !== undefined ? String(f.seed) : vscode.l10n.t('chosen by the service'));
  const p = f.parameters ?? {};
  const size = f.output_size ? `${f.output_size.width} × ${f.output_size.height}` : undefined;
  add(vscode.l10n.t('Output size'), [p.resolution, size].filter(Boolean).join(' · ') || undefined);
  add(vscode.l10n.t('Requested duration'), p.duration !== undefined ? seconds(p.duration, locale) : undefined);
  const u = f.usage;
  if (u) {
    const billed = u.duration ?? u.output_video_duration;
    const parts = [
      billed !== undefined ? vscode.l10n.t('{0} billed', seconds(billed, locale)) : undefined,
      u.output_video_duration !== undefined ? vscode.l10n.t('{0} of output', seconds(u.output_video_duration, locale)) : undefined,
      u.input_video_duration ? vscode.l10n.t('{0} of input clip', seconds(u.input_video_duration, locale)) : undefined,
    ].filter(Boolean);
    add(vscode.l10n.t('Usage'), parts.join(', ') || undefined);
  }
  add(vscode.l10n.t('Prompt rewriting'), p.prompt_extend === undefined ? undefined : p.prompt_extend ? vscode.l10n.t('on') : vscode.l10n.t('off'));
  add(vscode.l10n.t('Model'), f.model);
  add(vscode.l10n.t('Task ID'), f.task_id);
  add(vscode.l10n.t('Finished'), f.end_time ? vscode.l10n.t('{0} (UTC+8)', f.end_time) : undefined);
  if (f.rehearsal) add(vscode.l10n.t('Made by'), vscode.l10n.t('the local rehearsal emulator (not Wan model output)'));
  return rows;
}
