// Spend in the window: the figures in the Tasks view's description and the status bar's tooltip, and the
// caps held on the one path every request takes to the engine (TaskService.submit), so a request that
// would pass one is refused before anything is uploaded or created, unless the user allows it this once.
// The figures themselves come from src/tasks/spend.ts.
import * as vscode from 'vscode';
import type { EndpointRef, TaskRecord, TaskRequest } from '../../tasks/record';
import { capsExceeded, costOf, emptyTally, hasPrices, resolutionOf, requestSeconds, spendOf, type CapExceeded, type Spend, type Tally } from '../../tasks/spend';
import { SECTION, openSettingsAt, readBudget, type BudgetSettings } from '../settings';

/** The user declined to pass a cap: nothing was queued, uploaded or created. */
export class BudgetRefusal extends Error {
  override readonly name = 'BudgetRefusal';
}

function seconds(n: number): string {
  return vscode.l10n.t('{0} s', Number.isInteger(n) ? n.toLocaleString(vscode.env.language) : n.toFixed(1));
}

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(vscode.env.language, { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** "25 s", or "25 s ($2.50)" when every resolution in it has a price. */
export function tallyText(t: Tally, budget: BudgetSettings): string {
  const cost = hasPrices(budget.prices) ? costOf(t, budget.prices) : undefined;
  return cost === undefined ? seconds(t.seconds) : vscode.l10n.t('{0} ({1})', seconds(t.seconds), money(cost, budget.currency));
}

function endpointName(e: EndpointRef): string {
  switch (e.kind) {
    case 'beijing':
      return vscode.l10n.t('Beijing');
    case 'singapore':
      return vscode.l10n.t('Singapore');
    default:
      return e.baseUrl;
  }
}

function periodsText(p: Spend['total'], budget: BudgetSettings): string {
  return vscode.l10n.t('today {0} · this month {1} · all time {2}', tallyText(p.today, budget), tallyText(p.month, budget), tallyText(p.all, budget));
}

/** The Tasks view's description: the totals, once anything was spent (undefined before). */
export function spendDescription(spend: Spend, budget: BudgetSettings): string | undefined {
  if (!spend.endpoints.length) return undefined;
  return vscode.l10n.t('Spent {0}', periodsText(spend.total, budget));
}

/** The status bar's tooltip lines: each endpoint's figures, what is still on its way, and the caps. */
export function spendLines(spend: Spend, budget: BudgetSettings): string[] {
  if (!spend.endpoints.length) return [];
  const lines = spend.endpoints.map((e) => vscode.l10n.t('Spent on {0}: {1}', endpointName(e.endpoint), periodsText(e.periods, budget)));
  if (spend.total.today.expected) lines.push(vscode.l10n.t('Of today’s, {0} are tasks still on their way (counted by their request).', seconds(spend.total.today.expected)));
  const { dailySeconds, monthlySeconds } = budget.caps;
  if (dailySeconds !== undefined) lines.push(vscode.l10n.t('Daily cap {0}: {1} used', seconds(dailySeconds), seconds(spend.total.today.seconds)));
  if (monthlySeconds !== undefined) lines.push(vscode.l10n.t('Monthly cap {0}: {1} used', seconds(monthlySeconds), seconds(spend.total.month.seconds)));
  return lines;
}

/** A refusal's figures, one line per cap passed. */
export function capLine(c: CapExceeded): string {
  const total = seconds(c.spent + c.asked);
  const args = [seconds(c.spent), seconds(c.onItsWay), seconds(c.asked), total, seconds(c.cap)] as const;
  return c.period === 'today'
    ? vscode.l10n.t('Today: {0} billed or on its way ({1} of it still running or queued) + {2} asked = {3}, over the daily cap of {4} (wanStudio.budget.dailySeconds).', ...args)
    : vscode.l10n.t('This month: {0} billed or on its way ({1} of it still running or queued) + {2} asked = {3}, over the monthly cap of {4} (wanStudio.budget.monthlySeconds).', ...args);
}

/** Asks the user; resolves to the button chosen. A modal dialog in the window; tests script the answer. */
export type BudgetAsk = (message: string, detail: string, buttons: { allow: string; settings: string }) => Thenable<string | undefined>;

// Open Settings first: the first button is the default one, and Enter must never pass a cap.
export const askModal: BudgetAsk = (message, detail, { allow, settings }) => vscode.window.showWarningMessage(message, { modal: true, detail }, settings, allow);

export class BudgetGate {
  private readonly asked: string[] = [];

  constructor(
    private readonly o: {
      ask: BudgetAsk;
      log: vscode.LogOutputChannel;
      /** The user's clock: days and months are local. */
      now?: () => number;
      read?: () => BudgetSettings;
    },
  ) {}

  /** The refusals shown so far in this window (message and figures), for the test API. */
  prompts(): readonly string[] {
    return this.asked;
  }

  /**
   * Resolves when `requests` (every task of a batch) fit the caps, counting the tasks already billed and
   * those on their way, or when the user allows them this once; throws BudgetRefusal otherwise.
   */
  async admit(records: readonly TaskRecord[], requests: readonly TaskRequest[], endpoint: EndpointRef, held = 0): Promise<void> {
    const budget = (this.o.read ?? readBudget)();
    const over = capsExceeded(records, requests, endpoint, budget.caps, (this.o.now ?? Date.now)(), held);
    if (!over.length) return;
    const askedTally = emptyTally();
    for (const q of requests) askedTally.byResolution[resolutionOf(q)] += requestSeconds(q);
    askedTally.seconds = requests.reduce((s, q) => s + requestSeconds(q), 0);
    const message =
      requests.length > 1
        ? vscode.l10n.t('These {0} videos ({1}) would pass your spend cap. Nothing was sent.', requests.length, tallyText(askedTally, budget))
        : vscode.l10n.t('This video ({0}) would pass your spend cap. Nothing was sent.', tallyText(askedTally, budget));
    const detail = [...over.map(capLine), vscode.l10n.t('Allow This Once sends it anyway; the cap stays for the next request.')].join('\n');
    const allow = vscode.l10n.t('Allow This Once');
    // The caps are machine-scoped: in code-server they are on the Remote tab only, where this opens.
    const settings = vscode.l10n.t('Open Settings');
    this.asked.push(`${message}\n${detail}\n[${settings}] [${allow}]`);
    this.o.log.warn(`Spend cap: ${message} ${over.map(capLine).join(' ')}`);
    const choice = await this.o.ask(message, detail, { allow, settings });
    if (choice === allow) {
      this.o.log.info('Spend cap: allowed this once');
      return;
    }
    if (choice === settings) void openSettingsAt(`${SECTION}.budget`);
    throw new BudgetRefusal(`${message} ${over.map(capLine).join(' ')}`);
  }
}

/**
 * Keeps the figures shown: the Tasks view's description and the status bar's tooltip, on every change of
 * the list or the budget settings, and each minute (a new day or month starts without any change).
 */
export class SpendIndicator implements vscode.Disposable {
  private readonly timer: NodeJS.Timeout;
  private description: string | undefined;
  private lines: readonly string[] = [];

  constructor(
    private readonly o: {
      records: () => readonly TaskRecord[];
      now: () => number;
      view: vscode.TreeView<unknown>;
      show: (lines: readonly string[]) => void;
      read?: () => BudgetSettings;
    },
  ) {
    this.timer = setInterval(() => this.update(), 60_000);
  }

  update(): void {
    const budget = (this.o.read ?? readBudget)();
    const spend = spendOf(this.o.records(), this.o.now());
    const description = spendDescription(spend, budget);
    if (description !== this.description) this.o.view.description = this.description = description;
    const lines = spendLines(spend, budget);
    if (lines.join('\n') !== this.lines.join('\n')) this.o.show((this.lines = lines));
  }

  /** What is shown now, for the test API. */
  shown(): { description?: string; lines: readonly string[] } {
    return { description: this.description, lines: this.lines };
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
