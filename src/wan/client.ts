// The Wan 2.7 image-to-video client: create, poll, cancel, temporary upload and result download.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FormData, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  WanAmbiguousCreateError,
  WanApiError,
  WanConfigError,
  WanNetworkError,
  WanValidationError,
  apiKeyProblem,
  isUploadPolicyExpired,
} from './errors';
import { createDispatcher, DEFAULT_TIMEOUTS, isAbort, requestJson, toNetworkError, type Timeouts } from './http';
import { DEFAULT_RETRY, backoffDelay, isSafeToRepeatCreate, isTransient, sleep, withRetry, type RetryPolicy } from './retry';
import { downloadFile, type DownloadProgress, type DownloadResult } from './download';
import { MODEL } from './limits';
import { ADAPTIVE_SCHEDULE, fixedSchedule, pollTask, type OutagePolicy, type PollSchedule } from './poll';
import { probeMediaFormat, uploadFileName, type MediaFormat } from './media';
import type { CheckedCreateRequest } from './request';
import {
  CancelTaskResponseSchema,
  CreateTaskResponseSchema,
  TaskListResponseSchema,
  TaskResponseSchema,
  UploadPolicyResponseSchema,
  type CreateTaskResponse,
  type TaskListResponse,
  type TaskResponse,
  type TaskStatus,
} from './schema';
import { formatListTime } from './time';

export type ClientEvent =
  | { kind: 'retry'; what: string; attempt: number; delayMs: number; reason: string; error: unknown }
  | { kind: 'request'; what: string };

export interface WanClientOptions {
  /** e.g. https://dashscope-intl.aliyuncs.com (see regions.ts) */
  baseUrl: string;
  apiKey: string;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  /** How waitForTask rides out failed polls (see poll.ts). */
  outage?: Partial<OutagePolicy>;
  dispatcher?: Dispatcher;
  /** Diagnostics; events never carry the key. */
  onEvent?: (event: ClientEvent) => void;
}

export interface TaskListQuery {
  /** 1-based (default 1). */
  pageNo?: number;
  /** Default 10. */
  pageSize?: number;
  /** Tasks created at or after this time. */
  startTime?: Date;
  /** Tasks created at or before this time. */
  endTime?: Date;
  modelName?: string;
  status?: TaskStatus;
}

export interface WaitForTaskOptions {
  /** Default: the adaptive schedule (poll.ts). */
  schedule?: PollSchedule;
  /** Shorthand for a fixed schedule with this interval. */
  intervalMs?: number;
  outage?: Partial<OutagePolicy>;
  signal?: AbortSignal;
  onUpdate?: (task: TaskResponse) => void;
  random?: () => number;
}

/** A throttled create is tried again at most this often, and never after a longer Retry-After. */
const CREATE_THROTTLE_RETRIES = 2;
const CREATE_THROTTLE_MAX_WAIT_MS = 60_000;

/** A 429 about request rate or quota: the create was refused, so no task exists. Not a billing 429. */
function isCreateThrottling(error: unknown): error is WanApiError {
  return error instanceof WanApiError && error.httpStatus === 429 && (error.code.startsWith('Throttling') || error.code === 'LimitRequests');
}

/** Fresh upload policies tried after the first one expired. */
const MAX_POLICY_RENEWALS = 2;

const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkTaskId(taskId: string): string {
  if (!TASK_ID.test(taskId)) throw WanValidationError.one('task_id', `"${taskId.slice(0, 40)}" is not a valid task ID`);
  return taskId;
}

/** Why `what` failed, without repeating `what` (the errors of a request already name it). */
function reason(error: unknown, what: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(what) ? message.slice(what.length).replace(/^:?\s*/, '') : message;
}

/** The answer to a poll of `taskId`: an answer about another task (a confused gateway or cache) is refused. */
function sameTask(taskId: string, what: string, task: TaskResponse): TaskResponse {
  const other = task.output.task_id;
  if (other !== taskId) {
    throw new WanNetworkError(`${what}: the service answered about another task (${other.slice(0, 128)})`, true, 'TASK_MISMATCH', { retryable: false });
  }
  return task;
}

export class WanClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: WanClientOptions) {
    const problem = apiKeyProblem(options.apiKey);
    if (problem) throw new WanConfigError(problem.code, problem.message);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey.trim();
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? createDispatcher({ ...DEFAULT_TIMEOUTS, ...options.timeouts });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, accept: 'application/json', ...extra };
  }

  private onRetry(what: string) {
    return ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: unknown }) =>
      this.options.onEvent?.({ kind: 'retry', what, attempt, delayMs, reason: reason(error, what), error });
  }

  /**
   * Sends a body already checked whole (`prepareRequest`, or `checkCreateBody` for one built by hand). It is repeated only when no task can exist: the request
   * provably never left this machine, or the service refused it with 429 throttling (then after its
   * Retry-After, at most twice). A task that reached the service is billed, and a second one would be too.
   */
  async createTask(req: CheckedCreateRequest, options: { signal?: AbortSignal } = {}): Promise<CreateTaskResponse> {
    const usesOss = req.input.media.some((m) => m.url.startsWith('oss://'));
    const what = 'Create task';
    const send = () =>
      withRetry(
        () =>
          requestJson(
            {
              method: 'POST',
              url: `${this.baseUrl}/api/v1/services/aigc/video-generation/video-synthesis`,
              headers: this.headers({
                'x-dashscope-async': 'enable',
                ...(usesOss ? { 'x-dashscope-ossresourceresolve': 'enable' } : {}),
              }),
              body: req,
              dispatcher: this.dispatcher,
              signal: options.signal,
              what,
            },
            CreateTaskResponseSchema,
          ),
        { policy: this.retry, shouldRetry: isSafeToRepeatCreate, onRetry: this.onRetry(what), signal: options.signal },
      );
    try {
      for (let throttled = 0; ; throttled++) {
        try {
          return await send();
        } catch (error) {
          if (!isCreateThrottling(error) || throttled >= CREATE_THROTTLE_RETRIES || options.signal?.aborted) throw error;
          const delayMs = error.retryAfterMs ?? Math.max(1000, backoffDelay(throttled + 1, this.retry));
          if (delayMs > CREATE_THROTTLE_MAX_WAIT_MS) throw error;
          this.onRetry(what)({ attempt: throttled + 1, delayMs, error });
          await sleep(delayMs, options.signal);
        }
      }
    } catch (error) {
      if (isAbort(error) || !(error instanceof Error)) throw error;
      if (error instanceof WanNetworkError && !error.mayHaveReachedService) throw error;
      // A 4xx (429 included) is a refusal: no task. A timeout or 5xx may come after the task was made.
      if (error instanceof WanApiError && error.httpStatus !== 408 && error.httpStatus < 500) throw error;
      throw new WanAmbiguousCreateError(error);
    }
  }

  /** A request that may safely be repeated: retried on throttling, server errors and lost connections. */
  private repeatable<S extends z.ZodType>(method: 'GET' | 'POST', path: string, what: string, schema: S, signal?: AbortSignal) {
    return withRetry(
      () =>
        requestJson(
          { method, url: `${this.baseUrl}${path}`, headers: this.headers(), dispatcher: this.dispatcher, signal, what },
          schema,
        ),
      { policy: this.retry, shouldRetry: isTransient, onRetry: this.onRetry(what), signal },
    );
  }

  async getTask(taskId: string, options: { signal?: AbortSignal } = {}): Promise<TaskResponse> {
    const what = `Poll task ${checkTaskId(taskId)}`;
    return sameTask(taskId, what, await this.repeatable('GET', `/api/v1/tasks/${taskId}`, what, TaskResponseSchema, options.signal));
  }

  /** Only a PENDING task can be canceled; the service answers UnsupportedOperation otherwise. */
  async cancelTask(taskId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = `Cancel task ${checkTaskId(taskId)}`;
    await this.repeatable('POST', `/api/v1/tasks/${taskId}/cancel`, what, CancelTaskResponseSchema, options.signal);
  }

  /**
   * One page of the account's tasks, newest first (`GET /api/v1/tasks`). Times are sent to the second
   * in the service's UTC+8: `startTime` rounded down, `endTime` up, so the window is never narrower.
   */
  async listTasks(query: TaskListQuery = {}, options: { signal?: AbortSignal } = {}): Promise<TaskListResponse> {
    const params = new URLSearchParams({ page_no: String(query.pageNo ?? 1), page_size: String(query.pageSize ?? 10) });
    if (query.startTime) params.set('start_time', formatListTime(query.startTime));
    if (query.endTime) params.set('end_time', formatListTime(new Date(Math.ceil(query.endTime.getTime() / 1000) * 1000)));
    if (query.modelName) params.set('model_name', query.modelName);
    if (query.status) params.set('status', query.status);
    return this.repeatable('GET', `/api/v1/tasks?${params}`, 'List tasks', TaskListResponseSchema, options.signal);
  }

  /**
   * Polls until the task ends (SUCCEEDED, FAILED, CANCELED or UNKNOWN) and returns the last answer.
   * Transient failures are ridden out for as long as the task lives (see poll.ts); any rejection
   * leaves the task intact, to be resumed with the same ID.
   */
  async waitForTask(taskId: string, options: WaitForTaskOptions = {}): Promise<TaskResponse> {
    const what = `Poll task ${checkTaskId(taskId)}`;
    const schedule = options.schedule ?? (options.intervalMs !== undefined ? fixedSchedule(options.intervalMs) : ADAPTIVE_SCHEDULE);
    return pollTask(
      async (signal) =>
        sameTask(
          taskId,
          what,
          await requestJson(
            { method: 'GET', url: `${this.baseUrl}/api/v1/tasks/${taskId}`, headers: this.headers(), dispatcher: this.dispatcher, signal, what },
            TaskResponseSchema,
          ),
        ),
      {
        schedule,
        outage: { ...this.options.outage, ...options.outage },
        signal: options.signal,
        random: options.random,
        onUpdate: options.onUpdate,
        onWait: (e) => {
          if (e.kind === 'failure') {
            this.options.onEvent?.({ kind: 'retry', what, attempt: e.failures ?? 1, delayMs: e.delayMs, reason: reason(e.error, what), error: e.error });
          }
        },
      },
    );
  }

  /**
   * DashScope's temporary upload: ask for a policy, post the file to the storage host, and return the
   * `oss://` URL (valid about 48 h). Creates that use it must send X-DashScope-OssResourceResolve.
   */
  async uploadFile(path: string, options: { signal?: AbortSignal; format?: MediaFormat } = {}): Promise<string> {
    const what = `Upload ${basename(path)}`;
    // Named for what the file is (its probed format), not for its extension.
    const safeName = uploadFileName(path, options.format ?? (await probeMediaFormat(path)));
    const policyUrl = `${this.baseUrl}/api/v1/uploads?action=getPolicy&model=${encodeURIComponent(MODEL)}`;
    // Each try asks for a new policy, so an expired one is renewed by trying again (a bounded number of times).
    let renewals = 0;
    const shouldRetry = (error: unknown) => isTransient(error) || (isUploadPolicyExpired(error) && renewals++ < MAX_POLICY_RENEWALS);
    return withRetry(
      async () => {
        const { data: policy } = await requestJson(
          { method: 'GET', url: policyUrl, headers: this.headers(), dispatcher: this.dispatcher, signal: options.signal, what },
          UploadPolicyResponseSchema,
        );
        // A fresh key on every attempt: the policy forbids overwriting a half-finished earlier one.
        const key = `${policy.upload_dir.replace(/\/+$/, '')}/${randomUUID()}-${safeName}`;
        const form = new FormData();
        form.append('OSSAccessKeyId', policy.oss_access_key_id);
        form.append('Signature', policy.signature);
        form.append('policy', policy.policy);
        form.append('key', key);
        form.append('x-oss-object-acl', policy.x_oss_object_acl);
        form.append('x-oss-forbid-overwrite', policy.x_oss_forbid_overwrite);
        form.append('success_action_status', '200');
        form.append('file', await openAsBlob(path), safeName);
        let status: number;
        let text: string;
        try {
          const res = await request(policy.upload_host, {
            method: 'POST',
            body: form,
            dispatcher: this.dispatcher,
            signal: options.signal,
          });
          status = res.statusCode;
          text = await res.body.text();
        } catch (error) {
          throw toNetworkError(error, what, policy.upload_host);
        }
        if (status < 200 || status > 299) {
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${status}`;
          const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? 'the storage host refused the upload';
          throw new WanApiError(status, code, message);
        }
        return `oss://${key}`;
      },
      { policy: this.retry, shouldRetry, onRetry: this.onRetry(what), signal: options.signal },
    );
  }

  /**
   * Saves a result video to `dest` (see download.ts); the key is never sent to the storage host. It
   * resolves only once the file holds as many bytes as the server advertised and is a whole MP4 (without
   * an advertised length: one lasting `expectedSeconds`, when given).
   */
  downloadVideo(
    url: string,
    dest: string,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void; expectedSeconds?: number } = {},
  ): Promise<DownloadResult> {
    return downloadFile(url, dest, {
      timeouts: { ...DEFAULT_TIMEOUTS, ...this.options.timeouts },
      retry: this.retry,
      signal: options.signal,
      onProgress: options.onProgress,
      expectedSeconds: options.expectedSeconds,
      onRetry: this.onRetry('Download'),
    });
  }
}
