// The board as the editor's page shows it: read loosely from the JSON (a shot with a wrong field still shows,
// with the problem beside that field), with the plan's states, bills and clips when the board parses. No
// vscode: the host hands in how a file becomes a webview URI.
import { parse as parseJson } from 'jsonc-parser';
import { isAbsolute, resolve } from 'node:path';
import { parseBoard, type BoardProblem } from '../../storyboard/board';
import type { Plan } from '../../storyboard/plan';
import type { BoardView, ShotView } from '../../protocol/storyboard';
import { isUrl } from '../../wan/request';

export interface ViewFacts {
  fileName: string;
  boardDir: string;
  /** A local file as a webview URI, or undefined when the page may not load it. */
  uriOf(file: string): string | undefined;
}

const get = (obj: unknown, key: string): unknown => (obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function thumb(source: string, facts: ViewFacts): string | undefined {
  if (!source || isUrl(source)) return undefined;
  return facts.uriOf(isAbsolute(source) ? source : resolve(facts.boardDir, source));
}

function shotView(raw: unknown, index: number, facts: ViewFacts): ShotView {
  const start = get(raw, 'start');
  const keyframe = str(get(start, 'keyframe'));
  const end = str(get(get(raw, 'end'), 'keyframe'));
  const kind = get(start, 'continue') === true ? 'continue' : get(start, 'keyframe') !== undefined ? 'keyframe' : 'none';
  const view: ShotView = {
    id: str(get(raw, 'id')) || `#${index + 1}`,
    prompt: str(get(raw, 'prompt')),
    negativePrompt: str(get(raw, 'negativePrompt')),
    seed: str(get(raw, 'seed')),
    duration: str(get(raw, 'duration')),
    start: kind,
    keyframe,
    overlap: str(get(start, 'overlap')),
    end,
  };
  const startThumb = kind === 'keyframe' ? thumb(keyframe, facts) : undefined;
  const endThumb = thumb(end, facts);
  if (startThumb) view.startThumb = startThumb;
  if (endThumb) view.endThumb = endThumb;
  return view;
}

/** The page's view of a board's text, planned by `plan` when it parses. */
export async function boardView(text: string, facts: ViewFacts, plan: () => Promise<Plan | undefined>): Promise<BoardView> {
  const parsed = parseBoard(text);
  const syntax = !parsed.ok && parsed.problems.some((p) => p.line !== undefined) ? parsed.problems : undefined;
  const base: BoardView = { fileName: facts.fileName, settings: { resolution: '720P', watermark: false, promptExtend: true, soundtrack: '' }, shots: [], problems: [] };
  if (syntax) return { ...base, syntax: syntax.map((p) => p.message).join('\n'), problems: [] };
  const json: unknown = parseJson(text);
  const settings = get(json, 'settings');
  const rawShots = get(json, 'shots');
  const view: BoardView = {
    ...base,
    settings: {
      resolution: str(get(settings, 'resolution')) || '720P',
      watermark: get(settings, 'watermark') === true,
      promptExtend: get(settings, 'promptExtend') !== false,
      soundtrack: str(get(settings, 'soundtrack')),
    },
    shots: Array.isArray(rawShots) ? rawShots.map((s, i) => shotView(s, i, facts)) : [],
  };
  if (!parsed.ok) {
    view.problems = parsed.problems.map(problemView);
    return view;
  }
  const planned = await plan();
  if (!planned) return view;
  view.problems = [...planned.problems, ...planned.shots.flatMap((s) => s.problems)].map(problemView);
  for (const shot of planned.shots) {
    const v = view.shots[shot.index];
    if (!v) continue;
    v.state = shot.state;
    v.billedSeconds = shot.billedSeconds;
    const clip = shot.made ? facts.uriOf(shot.made.video) : undefined;
    if (clip) v.clip = clip;
  }
  const byId = new Map(planned.shots.map((s) => [s.id, s]));
  view.plan = {
    ready: planned.ready,
    sends: planned.sends.map((id) => {
      const s = byId.get(id)!;
      return { id, index: s.index, billedSeconds: s.billedSeconds, ...(s.after ? { after: s.after } : {}) };
    }),
    billedSeconds: planned.billedSeconds,
    filmSeconds: planned.filmSeconds,
    notes: planned.notes,
  };
  return view;
}

function problemView(p: BoardProblem): { path: (string | number)[]; message: string } {
  return { path: p.path, message: p.message };
}
