// A plan in words, for the CLI's `board plan` and for logs: what will be sent, in which order, and what it bills.
import { describePath, type Board, type BoardProblem } from './board';
import type { Plan, ShotPlan, ShotState } from './plan';

const STATE_WORDS: Record<ShotState, string> = {
  invalid: 'has problems',
  'not-made': 'not made',
  outdated: 'outdated',
  'in-flight': 'queued or running',
  made: 'made',
};

function startOf(board: Board, shot: ShotPlan): string {
  const s = board.shots[shot.index]!;
  const from = 'keyframe' in s.start ? s.start.keyframe : `continues ${board.shots[shot.index - 1]?.id ?? '(nothing)'} (${shot.request?.firstClip?.seconds ?? '?'} s overlap)`;
  return s.end ? `${from} → ${s.end.keyframe}` : from;
}

function action(shot: ShotPlan, sends: readonly string[]): string {
  if (!sends.includes(shot.id)) return shot.state === 'made' ? 'kept' : shot.state === 'in-flight' ? 'waiting for it' : 'not sent';
  return `${shot.after ? `sent after ${shot.after}` : 'sent'}, bills ${shot.billedSeconds} s`;
}

export function problemLine(p: BoardProblem): string {
  const where = p.line !== undefined ? `line ${p.line}, column ${p.column ?? 1}` : describePath(p.path);
  return `${where}: ${p.message}`;
}

/** The plan as the CLI prints it. */
export function planText(name: string, board: Board, plan: Plan): string {
  const lines = [`${name}: ${board.shots.length} shot(s), a ${plan.filmSeconds} s film at ${board.settings.resolution}`];
  for (const shot of plan.shots) {
    lines.push(`  ${shot.index + 1}. ${shot.id}: ${startOf(board, shot)}, ${board.shots[shot.index]!.duration} s in the film; ${STATE_WORDS[shot.state]}; ${action(shot, plan.sends)}`);
  }
  const problems = [...plan.problems, ...plan.shots.flatMap((s) => s.problems)];
  if (problems.length > 0) {
    lines.push(`Nothing will be sent until ${problems.length === 1 ? 'this is' : `these ${problems.length} are`} fixed:`);
    for (const p of problems) lines.push(`  ${problemLine(p)}`);
  } else if (plan.sends.length === 0) {
    lines.push('Every shot is made: nothing to send. Assemble joins them.');
  } else {
    lines.push(`Generate sends ${plan.sends.length} shot(s), billed ${plan.billedSeconds} s in all.`);
  }
  for (const note of plan.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

/** The plan as `--json` gives it: the figures a script needs, nothing of the host's facts. */
export function planJson(plan: Plan) {
  return {
    ready: plan.ready,
    film_seconds: plan.filmSeconds,
    billed_seconds: plan.billedSeconds,
    sends: plan.sends,
    shots: plan.shots.map((s) => ({
      id: s.id,
      state: s.state,
      billed_seconds: s.billedSeconds,
      send: plan.sends.includes(s.id),
      ...(s.after ? { after: s.after } : {}),
      film_start: s.filmStart,
      film_seconds: s.filmSeconds,
      problems: s.problems.map(problemLine),
    })),
    problems: plan.problems.map(problemLine),
    notes: plan.notes,
  };
}
