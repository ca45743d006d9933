// The plan of a storyboard: which shots will be sent, in which order, what each bills, and what the film
// will be, all before anything is paid. Pure: the host gathers the facts (files, clips made, region) first.
import { createHash } from 'node:crypto';
import { AUDIO, DURATION_MAX_S, DURATION_MIN_S, VIDEO } from '../wan/limits';
import { isUrl } from '../wan/request';
import { billedSeconds } from '../wan/sizing';
import { DEFAULT_OVERLAP_S, type Board, type BoardProblem, type Shot } from './board';

/** What the host knows of one source the board names (a keyframe or the soundtrack). */
export type SourceFact = { key: string; seconds?: number } | { problem: string };

/** A shot's clip already made, found by its content key. */
export interface MadeClip {
  video: string;
  taskId?: string;
}

export interface PlanFacts {
  /** Each source as written in the board → its identity (content hash, or a URL as it is) or why it cannot be used. */
  sources: ReadonlyMap<string, SourceFact>;
  made(key: string): MadeClip | undefined;
  /** The content key of the shot's latest clip, when one was made for another version of it. */
  lastMadeKey(shotId: string): string | undefined;
  /** A task for this content is queued or running now. */
  inFlight(key: string): boolean;
  /** The content has only a rehearsal's clip, which a board sent to a paid endpoint does not count. */
  rehearsedOnly(key: string): boolean;
  /** Keyframes (as the board writes them) that are frames of a rehearsal's video, when the board goes to a paid endpoint. */
  rehearsalFrames: readonly string[];
  /** The endpoint can take local audio (its region has the temporary upload). */
  canUploadAudio: boolean;
}

export type ShotState = 'invalid' | 'not-made' | 'outdated' | 'in-flight' | 'made';

/** What one shot will send: sources as written in the board, plus the previous shot's clip for a continuation. */
export interface ShotRequest {
  prompt: string;
  negativePrompt?: string;
  seed?: number;
  resolution: Board['settings']['resolution'];
  watermark: boolean;
  promptExtend: boolean;
  /** The API's duration: the whole output, a continuation's clip included. */
  duration: number;
  firstFrame?: string;
  lastFrame?: string;
  /** The last `seconds` of the previous shot's clip. */
  firstClip?: { shotId: string; seconds: number };
  /** A slice of the soundtrack, starting at `from` seconds of the film. */
  drivingAudio?: { source: string; from: number; seconds: number };
}

export interface ShotPlan {
  id: string;
  index: number;
  state: ShotState;
  problems: BoardProblem[];
  /** Content key: the same request never pays twice. Absent while the shot has problems. */
  key?: string;
  request?: ShotRequest;
  /** Paid only when `send`. */
  billedSeconds: number;
  send: boolean;
  /** The shot whose clip this one needs first. */
  after?: string;
  /** Where the shot's new seconds sit in the film, and how much of its clip the film skips. */
  filmStart: number;
  filmSeconds: number;
  skip: { seconds: number } | { frames: number } | undefined;
  made?: MadeClip;
}

export interface Plan {
  shots: ShotPlan[];
  /** Board-level problems (no shots, a soundtrack that cannot be read). */
  problems: BoardProblem[];
  /** True when nothing has a problem: Generate may send. */
  ready: boolean;
  /** Shots to send, in an order that respects `after`. */
  sends: string[];
  billedSeconds: number;
  filmSeconds: number;
  notes: string[];
}

const KEY_VERSION = 1;

function contentKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify([KEY_VERSION, parts])).digest('hex').slice(0, 24);
}

function sourceKey(facts: PlanFacts, source: string, path: (string | number)[], problems: BoardProblem[]): string | undefined {
  const fact = facts.sources.get(source);
  if (!fact) {
    problems.push({ path, message: `${source} has not been checked` });
    return undefined;
  }
  if ('problem' in fact) {
    problems.push({ path, message: fact.problem });
    return undefined;
  }
  return fact.key;
}

interface Soundtrack {
  source: string;
  key: string;
  seconds: number;
  /** Only shots that start at 0 can use a URL, which cannot be cut. */
  isUrl: boolean;
}

function soundtrackOf(board: Board, facts: PlanFacts, problems: BoardProblem[], notes: string[]): Soundtrack | undefined {
  const source = board.settings.soundtrack;
  if (!source) return undefined;
  const key = sourceKey(facts, source, ['settings', 'soundtrack'], problems);
  if (!key) return undefined;
  const fact = facts.sources.get(source) as { key: string; seconds?: number };
  // The one test of the request builder: prepare.ts passes any URL (http, oss://) on as it is, uncut.
  const url = isUrl(source);
  if (!url && !facts.canUploadAudio) {
    notes.push('The soundtrack is laid under the assembled film but not sent as driving audio: this endpoint has no temporary upload for local audio. Give it as an https URL to send it.');
    return undefined;
  }
  if (url) notes.push('A soundtrack URL cannot be cut: only a shot at the start of the film is sent it as driving audio; it is laid under the whole film when assembled.');
  return { source, key, seconds: fact.seconds ?? Number.POSITIVE_INFINITY, isUrl: url };
}

function audioSlice(track: Soundtrack | undefined, filmStart: number, duration: number): ShotRequest['drivingAudio'] {
  if (!track || (track.isUrl && filmStart > 0)) return undefined;
  const seconds = Math.min(duration, track.seconds - filmStart, AUDIO.maxSeconds);
  return seconds >= AUDIO.minSeconds ? { source: track.source, from: filmStart, seconds } : undefined;
}

function durationProblem(shot: Shot, overlap: number | undefined): string | undefined {
  const total = shot.duration + (overlap ?? 0);
  if (overlap === undefined && shot.duration < DURATION_MIN_S) return `must be at least ${DURATION_MIN_S} seconds`;
  if (total > DURATION_MAX_S) {
    return overlap === undefined
      ? `must be at most ${DURATION_MAX_S} seconds`
      : `must be at most ${DURATION_MAX_S - overlap} seconds: with the ${overlap} s overlap the request would be ${total} s (the limit is ${DURATION_MAX_S})`;
  }
  return undefined;
}

/** Plans a board. Every shot is checked; Generate sends only when `ready`. */
export function planBoard(board: Board, facts: PlanFacts): Plan {
  const problems: BoardProblem[] = [];
  const notes: string[] = [];
  if (board.shots.length === 0) problems.push({ path: ['shots'], message: 'has no shots: add one with a keyframe to start from' });
  const track = soundtrackOf(board, facts, problems, notes);
  const plans: ShotPlan[] = [];
  let filmStart = 0;
  board.shots.forEach((shot, index) => {
    const prev = plans[index - 1];
    const prevShot = board.shots[index - 1];
    const shotProblems: BoardProblem[] = [];
    const at = (...p: (string | number)[]) => ['shots', index, ...p];
    const overlap = 'continue' in shot.start ? (shot.start.overlap ?? DEFAULT_OVERLAP_S) : undefined;
    const apiDuration = shot.duration + (overlap ?? 0);
    const durationIssue = durationProblem(shot, overlap);
    if (durationIssue) shotProblems.push({ path: at('duration'), message: durationIssue });

    let first: unknown;
    let firstFrame: string | undefined;
    let firstClip: ShotRequest['firstClip'];
    let skip: ShotPlan['skip'];
    if ('keyframe' in shot.start) {
      firstFrame = shot.start.keyframe;
      first = sourceKey(facts, firstFrame, at('start', 'keyframe'), shotProblems);
      // A keyframe the previous shot ended on appears once: this shot's first frame is skipped.
      if (prevShot?.end && prevShot.end.keyframe === firstFrame) skip = { frames: 1 };
    } else if (!prev || !prevShot) {
      shotProblems.push({ path: at('start'), message: 'continues the previous shot, but it is the first: the API needs a first frame or a clip to start from; give it a keyframe' });
    } else if (!prev.key) {
      shotProblems.push({ path: at('start'), message: `continues shot ${prevShot.id}, which has problems to fix first` });
    } else {
      const prevOutput = prev.request?.duration ?? 0;
      if (overlap! > prevOutput) shotProblems.push({ path: at('start', 'overlap'), message: `is ${overlap} s but shot ${prevShot.id} makes only ${prevOutput} s` });
      else if (overlap! > VIDEO.maxSeconds) shotProblems.push({ path: at('start', 'overlap'), message: `must be at most ${VIDEO.maxSeconds} seconds` });
      firstClip = { shotId: prevShot.id, seconds: overlap! };
      first = { after: prev.key, seconds: overlap };
      skip = { seconds: overlap! };
    }
    const lastFrame = shot.end?.keyframe;
    const last = lastFrame ? sourceKey(facts, lastFrame, at('end', 'keyframe'), shotProblems) : undefined;
    const drivingAudio = firstFrame ? audioSlice(track, filmStart, apiDuration) : undefined;
    const request: ShotRequest = {
      prompt: shot.prompt,
      ...(shot.negativePrompt ? { negativePrompt: shot.negativePrompt } : {}),
      ...(shot.seed !== undefined ? { seed: shot.seed } : {}),
      resolution: board.settings.resolution,
      watermark: board.settings.watermark,
      promptExtend: board.settings.promptExtend,
      duration: apiDuration,
      ...(firstFrame ? { firstFrame } : {}),
      ...(lastFrame ? { lastFrame } : {}),
      ...(firstClip ? { firstClip } : {}),
      ...(drivingAudio ? { drivingAudio } : {}),
    };
    const plan: ShotPlan = {
      id: shot.id,
      index,
      state: 'invalid',
      problems: shotProblems,
      billedSeconds: billedSeconds(apiDuration),
      send: false,
      filmStart,
      filmSeconds: shot.duration,
      skip,
    };
    if (shotProblems.length === 0) {
      const { firstFrame: _f, lastFrame: _l, firstClip: _c, drivingAudio: _a, ...params } = request;
      plan.key = contentKey({ params, first, last, audio: drivingAudio && track ? { key: track.key, from: drivingAudio.from, seconds: drivingAudio.seconds } : undefined });
      plan.request = request;
      plan.made = facts.made(plan.key);
      const previousKey = facts.lastMadeKey(shot.id);
      plan.state = plan.made ? 'made' : facts.inFlight(plan.key) ? 'in-flight' : previousKey && previousKey !== plan.key ? 'outdated' : 'not-made';
      plan.send = plan.state === 'not-made' || plan.state === 'outdated';
      if (firstClip && prev && prev.state !== 'made') plan.after = prev.id;
    }
    plans.push(plan);
    filmStart += shot.duration;
  });
  const allProblems = [...problems, ...plans.flatMap((p) => p.problems)];
  const sends = allProblems.length === 0 ? plans.filter((p) => p.send).map((p) => p.id) : [];
  if (facts.rehearsalFrames.length > 0) {
    notes.push(`${facts.rehearsalFrames.join(', ')} ${facts.rehearsalFrames.length === 1 ? 'is a frame' : 'are frames'} of a rehearsal's video (the emulator's, stamped REHEARSAL): sent to this endpoint, the model animates the stand-in, label and all.`);
  }
  const rehearsed = plans.filter((p) => p.send && p.key !== undefined && facts.rehearsedOnly(p.key)).map((p) => p.id);
  if (rehearsed.length > 0) {
    notes.push(`${rehearsed.join(', ')} ${rehearsed.length === 1 ? 'was' : 'were'} only rehearsed: the emulator's clips are not the film, so Generate makes ${rehearsed.length === 1 ? 'it' : 'them'} on this endpoint.`);
  }
  return {
    shots: plans,
    problems,
    ready: allProblems.length === 0,
    sends,
    billedSeconds: plans.filter((p) => sends.includes(p.id)).reduce((s, p) => s + p.billedSeconds, 0),
    filmSeconds: filmStart,
    notes,
  };
}

/** The sources a board names, for the host to check before planning. */
export function boardSources(board: Board): string[] {
  const all = new Set<string>();
  if (board.settings.soundtrack) all.add(board.settings.soundtrack);
  for (const shot of board.shots) {
    if ('keyframe' in shot.start) all.add(shot.start.keyframe);
    if (shot.end) all.add(shot.end.keyframe);
  }
  return [...all];
}
