// The view's badge (how many tasks run) and a status bar item shown while anything runs; its tooltip also
// carries what was spent (budget.ts).
import * as vscode from 'vscode';
import type { TaskRecord } from '../../tasks/record';
import { isRunning } from './present';
import type { TaskTreeNode } from './tree';

export class TaskIndicators implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private last = -1;
  private lastShown = '';
  private lastTooltip = '';
  private spend: readonly string[] = [];

  constructor(
    private readonly view: vscode.TreeView<TaskTreeNode>,
    focusCommand: string,
  ) {
    this.item = vscode.window.createStatusBarItem('wanStudio.tasks', vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Wan Studio Tasks');
    this.item.command = focusCommand;
  }

  /** How many are running now (the badge's number). */
  get count(): number {
    return Math.max(0, this.last);
  }

  /** The status bar's text, or undefined while it is hidden. */
  get text(): string | undefined {
    return this.last > 0 ? this.item.text : undefined;
  }

  update(records: readonly TaskRecord[]): void {
    let running = 0;
    let queued = 0;
    for (const r of records) {
      if (!isRunning(r)) continue;
      if (r.state === 'queued') queued++;
      else running++;
    }
    const total = running + queued;
    // The split matters too: "0 running, 1 queued" must become "1 running" when the task is sent.
    const shown = `${running}/${queued}`;
    if (shown === this.lastShown) return;
    this.lastShown = shown;
    this.last = total;
    if (total === 0) {
      this.view.badge = undefined;
      this.item.hide();
      return;
    }
    const tooltip = queued ? vscode.l10n.t('{0} running, {1} queued', running, queued) : vscode.l10n.t('{0} running', running);
    this.view.badge = { value: total, tooltip };
    this.item.text = `$(loading~spin) ${vscode.l10n.t('Wan: {0}', tooltip)}`;
    this.lastTooltip = vscode.l10n.t('Wan Studio: {0}. Click to show the tasks.', tooltip);
    this.showTooltip();
    this.item.show();
  }

  /** The spend lines under the tooltip's first line. */
  setSpend(lines: readonly string[]): void {
    this.spend = lines;
    this.showTooltip();
  }

  /** The tooltip as shown (also while the item is hidden), for the test API. */
  get tooltip(): string {
    return [this.lastTooltip, ...this.spend].filter(Boolean).join('\n');
  }

  private showTooltip(): void {
    this.item.tooltip = this.tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
