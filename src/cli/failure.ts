// How a run's failure is told: its exit code, its code for --json, and a message that keeps a paid task
// resumable.
import { WanAmbiguousCreateError, WanApiError, WanConfigError, WanNetworkError, WanValidationError, explainError, isAbort, type TaskResponse } from '../wan';
import { CliUsageError } from './args';
import { EXIT, STOP_SIGNALS, type StopSignal } from './exitCodes';
import type { RunContext } from './runContext';
import { describeTask } from './text';

export class TaskEnded extends Error {
  constructor(readonly task: TaskResponse) {
    super(`task ${task.output.task_id} ended ${task.output.task_status}`);
  }
}

export class NotConfigured extends Error {
  override readonly name = 'NotConfigured';
}

export interface Failure {
  exitCode: number;
  code: string;
  message: string;
  hint?: string;
}

/** The stop signal a run was aborted by (see the `require.main` block); SIGINT when it names none. */
export function stopSignalOf(signal: AbortSignal): StopSignal {
  const name = (signal.reason as { signal?: unknown } | undefined)?.signal;
  return typeof name === 'string' && name in STOP_SIGNALS ? (name as StopSignal) : 'SIGINT';
}

export function classify(error: unknown, ctx: RunContext, signal: AbortSignal): Failure {
  if (signal.aborted || isAbort(error)) {
    const by = stopSignalOf(signal);
    const stopped = by === 'SIGINT' ? 'Interrupted' : `Stopped by ${by}`;
    const message =
      ctx.phase === 'create'
        ? `${stopped} while creating the task: it may have reached the service (and be billed). Check with \`${ctx.lookup ?? 'wan-video list --since 10m'}\` before trying again.`
        : ctx.taskId
          ? `${stopped}. Task ${ctx.taskId} goes on at the service.`
          : `${stopped} before anything was created.`;
    return { exitCode: STOP_SIGNALS[by], code: 'Interrupted', message };
  }
  if (error instanceof CliUsageError) return { exitCode: EXIT.invalidInput, code: 'InvalidArguments', message: error.message };
  if (error instanceof NotConfigured) return { exitCode: EXIT.notConfigured, code: 'NotConfigured', message: error.message };
  if (error instanceof WanConfigError) {
    return { exitCode: EXIT.notConfigured, code: error.code, message: `DASHSCOPE_API_KEY: ${error.message}` };
  }
  if (error instanceof TaskEnded) {
    const o = error.task.output;
    const code = (o.task_status === 'FAILED' && o.code) || `Task${o.task_status[0]}${o.task_status.slice(1).toLowerCase()}`;
    return { exitCode: EXIT.taskNotSucceeded, code, message: `Task ${o.task_id} ${describeTask(error.task)}` };
  }
  const explained = explainError(error);
  const failure = (exitCode: number): Failure => ({ exitCode, ...explained });
  if (error instanceof WanValidationError) return failure(EXIT.invalidInput);
  // The task exists and is paid for: whatever went wrong, `wait` picks it up again.
  if (ctx.phase === 'download') return failure(EXIT.downloadFailed);
  if (ctx.phase === 'poll') return failure(EXIT.networkError);
  if (error instanceof WanAmbiguousCreateError) return failure(EXIT.createOutcomeUnknown);
  if (error instanceof WanApiError) return failure(EXIT.apiError);
  if (error instanceof WanNetworkError) return failure(EXIT.networkError);
  return failure(EXIT.unexpected);
}
