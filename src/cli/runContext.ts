// What a run knows as it goes, for the lines it prints and the answer it gives when it fails.
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** false once stderr is known to be closed (a pipe whose reader went away): failures then go to stdout. */
  errOpen?: () => boolean;
}

/**
 * Where a run is. Once a task exists (`poll`, `download`) it is paid for, so every failure from then on
 * must leave the user able to resume it: the task ID and the `wait` command are always printed.
 */
export type Phase = 'setup' | 'create' | 'poll' | 'download';

export interface RunContext {
  phase: Phase;
  taskId?: string;
  resume?: string;
  /** More fields for the JSON result of a failure. */
  extra: Record<string, unknown>;
  /** Lines printed after a failure's message. */
  notes: string[];
  /** The `list` command for this endpoint, once a create may have reached the service. */
  lookup?: string;
  /** true once the endpoint has answered: from then on a failure there is not a wrong address. */
  reached?: boolean;
}
