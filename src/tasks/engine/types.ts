// The engine's vocabulary: what it needs (deps), what it tells (events), what it says of the service.
import type { PollSchedule } from '../../wan';
import type { AccountLimits } from '../queue';
import type { EndpointRef, TaskRecord } from '../record';
import type { VideoSidecar } from '../sidecar';
import type { StoreRecovery, TaskStore } from '../store';
import type { EngineConnection } from './connection';

export type { EngineConnection } from './connection';

/** A task the service knows of, as its list endpoint describes it. */
export interface ListedTask {
  taskId: string;
  status: string;
  createdAt?: number;
}

export interface EngineLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineDeps {
  store: TaskStore;
  /** A client for the record's endpoint (or the configured one), with the stored key. The engine closes it. */
  connect(endpoint?: EndpointRef): Promise<EngineConnection>;
  /** When to poll a running task again (by default learned from the store's finished tasks; adaptive until it knows). */
  schedule?: PollSchedule;
  /** Where a task's video goes when its record names no folder; undefined: ask later (the save waits). */
  outputFolderFor?(record: TaskRecord): Promise<string | undefined>;
  log: EngineLog;
  limits?: AccountLimits;
  now?: () => number;
  random?: () => number;
  /** How long an interrupted create is looked up before it is called unresolved. */
  lookupWindowMs?: number;
  /** Writes the record beside a saved video (the sidecar's writer by default; tests make the disk fill). */
  writeRecord?(path: string, sidecar: VideoSidecar): Promise<void>;
  /** The folders videos are saved in now (the workspaces' output folders): a rebuilt list looks there too. */
  outputFolders?: () => Promise<string[]>;
  /** Reads a record beside a saved video (node:fs by default; tests count the reads). */
  readRecord?: (path: string) => Promise<string>;
}

/** An endpoint nothing answers at (connection refused, no such host, …): requests wait for it. */
export interface Outage {
  /** The URL that failed: the endpoint's base, or the upload host that could not be reached. */
  url: string;
  endpoint: EndpointRef;
  /** The local failure, e.g. "Create task failed: ECONNREFUSED (http://127.0.0.1:9)". */
  reason: string;
  /** The requests waiting for it (queued, never sent). */
  waiting: string[];
}

export interface EngineEvents {
  /** A task reached its end (saved, failed, canceled, unknown, or saved failed for good); once per task. */
  ended?(record: TaskRecord): void;
  /** Nothing answered at an endpoint a request was to go to; once per outage, not per retry. */
  unreachable?(outage: Outage): void;
  /** A succeeded task's video is not saved and its link dies within the hour; once per task. */
  expiring?(record: TaskRecord): void;
  /**
   * The task list was found damaged and rebuilt; then the account's tasks of the last 24 hours were added
   * again (`added`), or reading them failed (`error`).
   */
  recovered?(recovery: StoreRecovery, outcome: { added: TaskRecord[] } | { error: string }, fromRecords: TaskRecord[]): void;
  /** The task list cannot be written (read-only, full, removed…): `problem` once; undefined once it can again. */
  storage?(problem: string | undefined): void;
  /** An interrupted create was looked up and not resolved: the user decides (its `lookup` says what was seen). */
  unresolved?(record: TaskRecord): void;
}
