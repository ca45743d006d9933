// The Wan 2.7 image-to-video client: create, poll, cancel, temporary upload and result download.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FormData, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { WanAmbiguousCreateError, WanApiError, WanNetworkError, WanValidationError } from './errors';
import { createDispatcher, DEFAULT_TIMEOUTS, isAbort, requestJson, toNetworkError, type Timeouts } from './http';
import { DEFAULT_RETRY, isSafeToRepeatCreate, isTransient, sleep, withRetry, type RetryPolicy } from './retry';
import { downloadFile, type DownloadProgress } from './download';
import { MODEL, RECOMMENDED_POLL_INTERVAL_MS } from './limits';
import { probeMediaFormat, uploadFileName, validateDataUriImage, type MediaFormat } from './media';
import {
  CancelTaskResponseSchema,
  CreateTaskResponseSchema,
  parseCreateRequest,
  TaskResponseSchema,
  TERMINAL_STATUSES,
  UploadPolicyResponseSchema,
  type CreateTaskRequest,
  type CreateTaskResponse,
  type TaskResponse,
} from './schema';

export type ClientEvent =
  | { kind: 'retry'; what: string; attempt: number; delayMs: number; reason: string }
  | { kind: 'request'; what: string };

export interface WanClientOptions {
  /** e.g. https://dashscope-intl.aliyuncs.com (see regions.ts) */
  baseUrl: string;
  apiKey: string;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  /** Diagnostics; events never carry the key. */
  onEvent?: (event: ClientEvent) => void;
}

const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkTaskId(taskId: string): string {
  if (!TASK_ID.test(taskId)) throw WanValidationError.one('task_id', `"${taskId.slice(0, 40)}" is not a valid task ID`);
  return taskId;
}

/** Inline (data:) images are here to check, so a task the service would fail is never paid for. */
async function checkInlineImages(req: CreateTaskRequest): Promise<void> {
  const issues: WanValidationError['issues'][number][] = [];
  for (const m of req.input.media) {
    if ((m.type !== 'first_frame' && m.type !== 'last_frame') || !m.url.startsWith('data:')) continue;
    try {
      await validateDataUriImage(m.type, m.url);
    } catch (error) {
      if (!(error instanceof WanValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length) throw new WanValidationError(issues);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class WanClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: WanClientOptions) {
    if (!options.apiKey.trim()) throw WanValidationError.one('apiKey', 'an API key is required');
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
      this.options.onEvent?.({ kind: 'retry', what, attempt, delayMs, reason: reason(error) });
  }

  /**
   * Validates `body` locally, then sends it once. It is repeated only when the request provably never
   * left this machine: a task that reached the service is billed, and a second one would be billed again.
   */
  async createTask(body: unknown, options: { signal?: AbortSignal } = {}): Promise<CreateTaskResponse> {
    const req = parseCreateRequest(body);
    await checkInlineImages(req);
    const usesOss = req.input.media.some((m) => m.url.startsWith('oss://'));
    const what = 'Create task';
    try {
      return await withRetry(
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
    return this.repeatable('GET', `/api/v1/tasks/${taskId}`, what, TaskResponseSchema, options.signal);
  }

  /** Only a PENDING task can be canceled; the service answers UnsupportedOperation otherwise. */
  async cancelTask(taskId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = `Cancel task ${checkTaskId(taskId)}`;
    await this.repeatable('POST', `/api/v1/tasks/${taskId}/cancel`, what, CancelTaskResponseSchema, options.signal);
  }

  /** Polls until the task ends (SUCCEEDED, FAILED, CANCELED or UNKNOWN) and returns the last answer. */
  async waitForTask(
    taskId: string,
    options: { intervalMs?: number; signal?: AbortSignal; onUpdate?: (task: TaskResponse) => void } = {},
  ): Promise<TaskResponse> {
    const interval = options.intervalMs ?? RECOMMENDED_POLL_INTERVAL_MS;
    for (;;) {
      const task = await this.getTask(taskId, options);
      options.onUpdate?.(task);
      if (TERMINAL_STATUSES.has(task.output.task_status)) return task;
      await sleep(interval, options.signal);
    }
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
          throw toNetworkError(error, what);
        }
        if (status < 200 || status > 299) {
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${status}`;
          const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? 'the storage host refused the upload';
          throw new WanApiError(status, code, message);
        }
        return `oss://${key}`;
      },
      { policy: this.retry, shouldRetry: isTransient, onRetry: this.onRetry(what), signal: options.signal },
    );
  }

  /** Saves a result video to `dest` (see download.ts); the key is never sent to the storage host. */
  downloadVideo(
    url: string,
    dest: string,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<{ bytes: number }> {
    return downloadFile(url, dest, {
      dispatcher: this.dispatcher,
      retry: this.retry,
      signal: options.signal,
      onProgress: options.onProgress,
      onRetry: this.onRetry('Download'),
    });
  }
}
