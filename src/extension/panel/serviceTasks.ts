// The panel's view of the task layer: the window's TaskService. Like `wanStudio.generate`, a request goes
// to the configured endpoint and its video to the output folder of the workspace its inputs are in; but a
// refusal is thrown (the panel shows it beside the fields) rather than announced.
import * as vscode from 'vscode';
import type { TaskRecord, TaskRequest } from '../../tasks/record';
import type { ConnectionFactory } from '../connection';
import { placeRequest } from '../tasks/outputFolder';
import type { Submission, TaskService } from '../tasks/service';
import type { GenerationTasks } from './taskLayer';

export class ServiceTasks implements GenerationTasks {
  readonly onDidChange: vscode.Event<void>;

  constructor(
    private readonly service: TaskService,
    private readonly connections: ConnectionFactory,
  ) {
    this.onDidChange = service.onDidChange;
  }

  async submit(requests: readonly TaskRequest[]): Promise<TaskRecord[]> {
    const endpoint = await this.connections.endpoint();
    const items: Submission[] = [];
    let chosen: string | undefined;
    for (const request of requests) {
      // A folder picked for the first video (no workspace) serves the whole batch: asked once.
      const place = await placeRequest(request, { outputFolder: chosen });
      if (!place) throw new Error(vscode.l10n.t('No folder was chosen for the video, so nothing was requested.'));
      chosen ??= place.outputFolder;
      items.push({ request, ...place });
    }
    return this.service.submit(items, endpoint);
  }

  retrySave(id: string): Promise<void> {
    return this.service.engine.retrySave(id);
  }

  get(id: string): TaskRecord | undefined {
    return this.service.get(id);
  }

  all(): readonly TaskRecord[] {
    return this.service.all();
  }
}
