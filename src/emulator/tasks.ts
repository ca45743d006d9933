// Task store and state machine on the emulator clock: PENDING for pendingMs (longer while its account
// already has its limit of tasks RUNNING), then the task runs (media fetched, validated and test-decoded,
// the video rendered within a time limit, a few renders at once) and shows RUNNING for at least
// runningMs; then SUCCEEDED or FAILED. CANCELED only from PENDING. UNKNOWN when missing or older than 24 h.
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { decodeProblem } from '../ffmpeg/ffmpeg';
import { WanValidationError } from '../wan/errors';
import { TASK_TTL_MS, DURATION_DEFAULT_S, RESOLUTION_DEFAULT } from '../wan/limits';
import { validateLocalMedia } from '../wan/media/validate';
import type { CreateTaskRequest, MediaType, Resolution, TaskStatus } from '../wan/schema';
import { billedSeconds, estimateOutputSize } from '../wan/sizing';
import { formatServiceTime } from '../wan/time';
import type { EmulatorClock } from './clock';
import type { OutcomeFault } from './faults';
import { MediaFetchError, fetchMedia } from './media';
import { RenderTimeoutError, renderVideo } from './render';
import type { UploadStore } from './upload';

export interface TaskUsage {
  duration: number;
  input_video_duration: number;
  output_video_duration: number;
  SR: number;
  video_count: 1;
}

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  fileName?: string;
  usage?: TaskUsage;
  finishedAt: number;
  renderMs?: number;
  size?: { width: number; height: number };
}

export interface Task {
  id: string;
  account: string;
  request: CreateTaskRequest;
  submitAt: number;
  /** When it may leave PENDING: submitAt + pendingMs. */
  readyAt: number;
  /** When it left PENDING (its scheduled_time): readyAt, or later when it waited for its account's slot. */
  scheduledAt: number;
  waitedForSlot?: boolean;
  runningMs: number;
  canceledAt?: number;
  forcedUnknown?: boolean;
  /** Kept RUNNING by the hold control: it had not ended when the hold began. */
  held?: boolean;
  forcedFailure?: { code: string; message: string };
  started: boolean;
  outcome?: Outcome;
}

export interface ResultFile {
  path: string;
  expiresAt: number;
  bytes?: number;
}

export interface TaskStoreOptions {
  clock: EmulatorClock;
  uploads: UploadStore;
  dataDir: string;
  pendingMs: number;
  runningMs: number;
  /** Base of result URLs, e.g. http://127.0.0.1:8787 */
  publicBase: () => string;
  log: (line: string) => void;
  /** Renders running at once (ffmpeg is CPU-bound); more wait their turn. Default 2. */
  concurrency?: number;
  /** Time limit of one render, after which ffmpeg is killed (default RENDER_TIMEOUT_MS). */
  renderTimeoutMs?: number;
  /** Tasks RUNNING at once per account; more stay PENDING until one ends. Default 5. */
  maxRunningPerAccount?: number;
}

/** The service's limit of tasks processing at once per account, for wan2.7-i2v. */
export const MAX_RUNNING_PER_ACCOUNT = 5;

export class TaskStore {
  private readonly tasks = new Map<string, Task>();
  readonly files = new Map<string, ResultFile>();
  private rendering = 0;
  private held = false;
  private readonly renderWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly aborter = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Real render timings, newest last (for reports and tests). */
  readonly renderTimings: { taskId: string; ms: number; width: number; height: number; duration: number }[] = [];

  constructor(private readonly o: TaskStoreOptions) {
    this.timer = setInterval(() => this.tick(), 25);
    this.timer.unref();
    o.clock.onAdvance(() => this.tick());
  }

  /** Stops the clock, kills running renders and waits for them, so nothing writes to a removed folder. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.aborter.abort();
    for (const wake of this.renderWaiters.splice(0)) wake();
    await Promise.allSettled(this.inFlight);
  }

  create(request: CreateTaskRequest, account: string, fault?: OutcomeFault): Task {
    const now = this.o.clock.now();
    const task: Task = {
      id: randomUUID(),
      account,
      request,
      submitAt: now,
      readyAt: now + this.o.pendingMs,
      scheduledAt: now + this.o.pendingMs,
      runningMs: this.o.runningMs,
      started: false,
      ...(this.held ? { held: true } : {}),
    };
    if (fault?.kind === 'unknown') task.forcedUnknown = true;
    if (fault?.kind === 'fail') {
      task.forcedFailure = {
        code: fault.code ?? 'InternalError.Algo',
        message: fault.message ?? 'An internal error occurred while generating the video (emulated fault).',
      };
    }
    this.tasks.set(task.id, task);
    this.tick();
    return task;
  }

  /** The task if it exists, belongs to this key and is younger than 24 h. */
  get(id: string, account: string): Task | undefined {
    this.tick();
    const t = this.tasks.get(id);
    if (!t || t.account !== account || t.forcedUnknown) return undefined;
    if (this.o.clock.now() - t.submitAt > TASK_TTL_MS) return undefined;
    return t;
  }

  /**
   * Keeps every task that has not ended yet (and every task created while the hold lasts) RUNNING once started, until
   * `holdRunning(false)` (the control plane's `hold`): so a test can let tasks run short and still keep some running,
   * e.g. across a window reload. Tasks that had ended stay ended. On release each held task ends then: its run is
   * stretched to the release, so its end_time says when it really ended.
   */
  holdRunning(on: boolean): void {
    const now = this.o.clock.now();
    for (const t of this.tasks.values()) {
      if (on && !t.held && t.canceledAt === undefined && ['PENDING', 'RUNNING'].includes(this.status(t))) t.held = true;
      if (!on && t.held) {
        t.held = false;
        if (t.started && now > t.scheduledAt + t.runningMs) t.runningMs = now - t.scheduledAt;
      }
    }
    this.held = on;
    this.tick();
  }

  get holding(): boolean {
    return this.held;
  }

  status(t: Task): TaskStatus {
    if (t.canceledAt !== undefined) return 'CANCELED';
    const now = this.o.clock.now();
    if (!t.started) return 'PENDING';
    if (!t.outcome || now < t.scheduledAt + t.runningMs || t.held) return 'RUNNING';
    return t.outcome.ok ? 'SUCCEEDED' : 'FAILED';
  }

  /** Cancels a PENDING task; false when it is in any other state. */
  cancel(t: Task): boolean {
    if (this.status(t) !== 'PENDING') return false;
    t.canceledAt = this.o.clock.now();
    return true;
  }

  /** The `output` object of a task query. */
  output(t: Task): Record<string, unknown> {
    const status = this.status(t);
    const out: Record<string, unknown> = { task_id: t.id, task_status: status, submit_time: formatServiceTime(new Date(t.submitAt)) };
    if (status !== 'PENDING' && status !== 'CANCELED') out.scheduled_time = formatServiceTime(new Date(t.scheduledAt));
    if (status === 'SUCCEEDED' || status === 'FAILED') {
      const end = Math.max(t.scheduledAt + t.runningMs, t.outcome!.finishedAt);
      out.end_time = formatServiceTime(new Date(end));
    }
    if (status === 'CANCELED') out.end_time = formatServiceTime(new Date(t.canceledAt!));
    if (status === 'SUCCEEDED') {
      // Like the reference's answers: the echoed prompt comes with the result, never before it.
      if (t.request.input.prompt !== undefined) out.orig_prompt = t.request.input.prompt;
      const name = t.outcome!.fileName!;
      const file = this.files.get(name);
      const expires = Math.floor((file?.expiresAt ?? 0) / 1000);
      out.video_url = `${this.o.publicBase()}/__emulator/files/${name}?Expires=${expires}&OSSAccessKeyId=emulator&Signature=rehearsal`;
    }
    if (status === 'FAILED') {
      out.code = t.outcome!.code;
      out.message = t.outcome!.message;
    }
    return out;
  }

  /** How many tasks are PENDING or RUNNING (the idle exit waits for them). */
  active(): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      const status = this.status(t);
      if ((status === 'PENDING' || status === 'RUNNING') && this.o.clock.now() - t.submitAt <= TASK_TTL_MS) n++;
    }
    return n;
  }

  usage(t: Task): TaskUsage | undefined {
    return this.status(t) === 'SUCCEEDED' ? t.outcome!.usage : undefined;
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    const max = this.o.maxRunningPerAccount ?? MAX_RUNNING_PER_ACCOUNT;
    const running = new Map<string, number>();
    for (const t of this.tasks.values()) {
      if (t.started && this.status(t) === 'RUNNING') running.set(t.account, (running.get(t.account) ?? 0) + 1);
    }
    // Oldest first: a task whose account is at its limit stays PENDING and keeps its place.
    for (const t of this.tasks.values()) {
      const due = !t.started && t.canceledAt === undefined && !t.forcedUnknown && now >= t.readyAt && now - t.submitAt <= TASK_TTL_MS;
      const busy = running.get(t.account) ?? 0;
      if (due && busy >= max) t.waitedForSlot = true;
      else if (due) {
        running.set(t.account, busy + 1);
        t.started = true;
        t.scheduledAt = t.waitedForSlot ? now : t.readyAt;
        this.launch(t);
      }
      // Forget tasks (and their results) well past their 24 h.
      if (now - t.submitAt > 2 * TASK_TTL_MS) this.tasks.delete(t.id);
    }
    for (const [name, f] of this.files) {
      if (now > f.expiresAt + TASK_TTL_MS) {
        this.files.delete(name);
        void rm(f.path, { force: true });
      }
    }
  }

  private launch(t: Task): void {
    const job = this.run(t)
      .catch((e: unknown): Outcome => {
        const message = `The emulator failed: ${(e as Error).message}`;
        return { ok: false, code: 'InternalError', message, finishedAt: this.o.clock.now() };
      })
      .then((outcome) => {
        t.outcome = outcome;
        this.o.log(`task ${t.id} ${outcome.ok ? `rendered ${outcome.size?.width}x${outcome.size?.height} in ${outcome.renderMs} ms` : `failed: ${outcome.code}: ${outcome.message}`}`);
      })
      .finally(() => {
        this.inFlight.delete(job);
        this.tick();
      });
    this.inFlight.add(job);
  }

  /** Runs `fn` when fewer than `concurrency` renders are running; fetching and checks need no slot. */
  private async withRenderSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (!this.closed && this.rendering >= (this.o.concurrency ?? 2)) {
      await new Promise<void>((wake) => this.renderWaiters.push(wake));
    }
    this.rendering++;
    try {
      return await fn();
    } finally {
      this.rendering--;
      this.renderWaiters.shift()?.();
    }
  }

  private async run(t: Task): Promise<Outcome> {
    const clock = this.o.clock;
    const fail = (code: string, message: string): Outcome => ({ ok: false, code, message, finishedAt: clock.now() });
    if (t.forcedFailure) return fail(t.forcedFailure.code, t.forcedFailure.message);
    const work = join(this.o.dataDir, 'work', t.id);
    const paths: Partial<Record<MediaType, string>> = {};
    try {
      await mkdir(work, { recursive: true });
      const req = t.request;
      for (const m of req.input.media) paths[m.type] = await fetchMedia(m.type, m.url, work, this.o.uploads);
      const duration = req.parameters?.duration ?? DURATION_DEFAULT_S;
      const resolution: Resolution = req.parameters?.resolution ?? RESOLUTION_DEFAULT;
      let source: { width: number; height: number };
      let clipSeconds = 0;
      let firstOrientation: number | undefined;
      if (paths.first_clip) {
        const clip = await validateLocalMedia('first_clip', paths.first_clip);
        clipSeconds = clip.durationSeconds;
        source = clip;
        if (clipSeconds >= duration) {
          return fail(
            'InvalidParameter',
            `The first_clip is ${clipSeconds.toFixed(2)} s long; parameters.duration (${duration} s) is the total output length and must be longer than the clip.`,
          );
        }
      } else {
        const first = await validateLocalMedia('first_frame', paths.first_frame!);
        source = first; // the displayed size, EXIF orientation applied
        firstOrientation = first.orientation;
      }
      const last = paths.last_frame ? await validateLocalMedia('last_frame', paths.last_frame) : undefined;
      if (paths.driving_audio) await validateLocalMedia('driving_audio', paths.driving_audio);
      // Well-formed is not decodable: a scrambled image would leave the renderer looping on nothing.
      for (const [type, p] of Object.entries(paths) as [MediaType, string][]) {
        const problem = await decodeProblem(p, type === 'driving_audio' ? 'audio' : 'video', { signal: this.aborter.signal });
        if (problem) {
          this.o.log(`task ${t.id}: the ${type} does not decode: ${problem}`);
          const kind = type === 'driving_audio' ? 'audio' : type === 'first_clip' ? 'video' : 'image';
          return fail('InvalidParameter', `The ${type} ${kind} could not be decoded: its data is damaged or in an unsupported encoding.`);
        }
      }
      const size = estimateOutputSize(source, resolution);
      const fileName = `${randomUUID()}.mp4`;
      const outPath = join(this.o.dataDir, 'results', fileName);
      await mkdir(join(this.o.dataDir, 'results'), { recursive: true });
      const r = await this.withRenderSlot(() =>
        renderVideo({
          outPath,
          ...size,
          durationSeconds: duration,
          ...(paths.first_clip
            ? { firstClip: { path: paths.first_clip, durationSeconds: clipSeconds } }
            : { firstFrame: paths.first_frame!, firstFrameOrientation: firstOrientation }),
          ...(paths.last_frame ? { lastFrame: paths.last_frame, lastFrameOrientation: last?.orientation } : {}),
          ...(paths.driving_audio ? { drivingAudio: paths.driving_audio } : {}),
          watermark: req.parameters?.watermark ?? false,
          timeoutMs: this.o.renderTimeoutMs,
          signal: this.aborter.signal,
        }),
      );
      this.renderTimings.push({ taskId: t.id, ms: r.elapsedMs, ...size, duration });
      const finishedAt = clock.now();
      this.files.set(fileName, { path: outPath, expiresAt: Math.max(finishedAt, t.scheduledAt + t.runningMs) + TASK_TTL_MS });
      return {
        ok: true,
        fileName,
        finishedAt,
        renderMs: r.elapsedMs,
        size,
        usage: {
          duration: billedSeconds(duration),
          input_video_duration: Math.round(clipSeconds),
          output_video_duration: duration,
          SR: resolution === '720P' ? 720 : 1080,
          video_count: 1,
        },
      };
    } catch (e) {
      if (e instanceof WanValidationError) {
        // Name the media by its type, as the service would, not by the emulator's work file.
        let message = e.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
        for (const [type, p] of Object.entries(paths)) message = message.split(basename(p)).join(`the ${type} file`);
        return fail('InvalidParameter', message);
      }
      if (e instanceof MediaFetchError) return fail('InvalidParameter', e.message);
      if (e instanceof RenderTimeoutError) {
        return fail('InternalError.Timeout', `Generating the video did not finish within the time limit (${e.timeoutMs / 1000} s); the task was stopped.`);
      }
      return fail('InternalError', `The emulator could not render the video: ${(e as Error).message.slice(0, 500)}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
