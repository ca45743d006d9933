// What the generation panel needs from the task layer. The panel never talks to the service itself:
// it hands requests over and follows the records.
import type * as vscode from 'vscode';
import type { TaskRecord, TaskRequest } from '../../tasks/record';

export interface GenerationTasks {
  /**
   * Checks and queues requests (a batch is held to the spend caps as a whole): throws BudgetRefusal when the
   * user kept to a cap, RequestRefused (a WanValidationError) for a request the service would refuse.
   */
  submit(requests: readonly TaskRequest[]): Promise<TaskRecord[]>;
  /** Tries a failed save of a succeeded task again (never a new task). */
  retrySave(id: string): Promise<void>;
  get(id: string): TaskRecord | undefined;
  /** Newest request first. */
  all(): readonly TaskRecord[];
  /** Fires when any record changed. */
  readonly onDidChange: vscode.Event<void>;
}
