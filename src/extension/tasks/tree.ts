// The "Tasks" view: one node per task record (newest first), with its saved video as a child; a storyboard's
// shot tasks are grouped under one row for their board (where its newest task would be). Nodes are kept across
// refreshes (stable ids) and only the nodes that changed are refreshed. Time-dependent text (age, time left)
// is refreshed by one timer, and only while the view is visible.
import { basename, resolve } from 'node:path';
import * as vscode from 'vscode';
import { batchMembers } from '../../tasks/batch';
import type { TaskRecord } from '../../tasks/record';
import { CommandIds } from '../commands/ids';
import { BOARD_CONTEXT_VALUE, VIDEO_CONTEXT_VALUE, taskContextValue } from './contextValue';
import { describe, detailsMarkdown, fileName, isBusy, isExpiredNow, rowLabel, savedFile } from './present';

export interface TaskSource {
  all(): readonly TaskRecord[];
  onDidChange(listener: () => void): vscode.Disposable;
}

/** Poster frames for saved videos (the tree asks; it is told when one is ready). */
export interface PosterSource {
  /** The poster's image when it is ready; with `make`, one is made and `onDidMake` fires with the video. */
  iconOf(video: string, make: boolean): vscode.Uri | undefined;
  onDidMake(listener: (video: string) => void): vscode.Disposable;
}

/** Posters are made for this many of the newest saved tasks; older rows show one only once it exists. */
const POSTERS_MADE_FOR = 30;

export abstract class TaskTreeNode {
  abstract readonly id: string;
  abstract readonly parent: TaskTreeNode | undefined;
  abstract getTreeItem(now: number): vscode.TreeItem;
  abstract getChildren(): TaskTreeNode[];
}

function iconFor(r: TaskRecord, now: number): vscode.ThemeIcon {
  if (isBusy(r)) return new vscode.ThemeIcon('loading~spin');
  switch (r.state) {
    case 'succeeded':
      if (isExpiredNow(r, now)) return new vscode.ThemeIcon('history', new vscode.ThemeColor('problemsErrorIcon.foreground'));
      if (r.save?.state === 'failed') return new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
    case 'canceled':
      return new vscode.ThemeIcon('circle-slash');
    case 'unresolved':
      return new vscode.ThemeIcon('question', new vscode.ThemeColor('problemsWarningIcon.foreground'));
    default:
      return new vscode.ThemeIcon('question');
  }
}

/** What the tree shows of a record that can change without the clock: a changed signature means refresh. */
function signature(r: TaskRecord): string {
  return [r.updatedAt, r.state, r.taskId, r.code, r.message, r.endTime, r.submitTime, r.save?.state, r.save?.file, r.save?.error, r.outputFolder].join('|');
}

export class TaskNode extends TaskTreeNode {
  readonly id: string;
  /** The board row it is grouped under, for a storyboard's shot. */
  parent: BoardNode | undefined;
  private video: VideoNode | undefined;
  private sig: string;
  /** The time-dependent text last shown, so the countdown refreshes only what changed. */
  shown = '';
  /** Part of a batch: the row goes by its image. */
  inBatch = false;
  /** Whether its poster is made when missing (the newest rows). */
  makePoster = false;

  constructor(
    public record: TaskRecord,
    private readonly posters?: PosterSource,
  ) {
    super();
    this.id = `task/${record.id}`;
    this.sig = signature(record);
  }

  /** Takes the newest record; true when the node must be redrawn. */
  update(record: TaskRecord, inBatch: boolean): boolean {
    this.record = record;
    const sig = `${signature(record)}|${inBatch}|${this.parent?.id}`;
    this.inBatch = inBatch;
    if (sig === this.sig) return false;
    this.sig = sig;
    return true;
  }

  /** The parts of the item that move with the clock. */
  timeText(now: number): string {
    return `${describe(this.record, now)}|${taskContextValue(this.record, now)}|${isExpiredNow(this.record, now)}`;
  }

  getChildren(): TaskTreeNode[] {
    const file = savedFile(this.record);
    if (!file) {
      this.video = undefined;
      return [];
    }
    if (this.video?.file !== file) this.video = new VideoNode(this, file, this.record.save?.bytes, this.posters);
    return [this.video];
  }

  getTreeItem(now: number): vscode.TreeItem {
    const r = this.record;
    const name = rowLabel(r, this.inBatch, !!this.parent);
    const file = savedFile(r);
    const item = new vscode.TreeItem(name, file ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = describe(r, now);
    // A saved video shows its poster frame (its status, Saved, leads the description).
    item.iconPath = (file && this.posters?.iconOf(file, this.makePoster)) || iconFor(r, now);
    item.contextValue = taskContextValue(r, now);
    // Status first: a screen reader says what happened before what it was.
    item.accessibilityInformation = { label: `${item.description}: ${name}` };
    this.shown = this.timeText(now);
    return item;
  }
}

export class VideoNode extends TaskTreeNode {
  readonly id: string;

  constructor(
    readonly parent: TaskNode,
    readonly file: string,
    private readonly bytes: number | undefined,
    private readonly posters?: PosterSource,
  ) {
    super();
    this.id = `${parent.id}/video`;
  }

  getChildren(): TaskTreeNode[] {
    return [];
  }

  getTreeItem(): vscode.TreeItem {
    const uri = vscode.Uri.file(this.file);
    const item = new vscode.TreeItem(fileName(this.file), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.resourceUri = uri;
    item.iconPath = this.posters?.iconOf(this.file, true) ?? new vscode.ThemeIcon('file-media');
    item.description = this.bytes !== undefined ? `${(this.bytes / 1024 / 1024).toFixed(1)} MB` : undefined;
    item.tooltip = this.file;
    item.contextValue = VIDEO_CONTEXT_VALUE;
    item.command = { command: CommandIds.playVideo, title: vscode.l10n.t('Play'), arguments: [uri] };
    return item;
  }
}

/** A storyboard's row: its shot tasks (newest first) below it, and how many are made, in progress or not made. */
export class BoardNode extends TaskTreeNode {
  readonly id: string;
  readonly parent = undefined;
  tasks: TaskNode[] = [];
  private summary = '';

  constructor(readonly board: string) {
    super();
    this.id = `board/${board}`;
  }

  /** Takes its tasks as they are now; true when the row's summary changed. */
  update(tasks: TaskNode[]): boolean {
    this.tasks = tasks;
    const summary = boardSummary(tasks.map((t) => t.record));
    if (summary === this.summary) return false;
    this.summary = summary;
    return true;
  }

  getChildren(): TaskTreeNode[] {
    return this.tasks;
  }

  getTreeItem(): vscode.TreeItem {
    const name = basename(this.board);
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.description = this.summary;
    item.iconPath = this.tasks.some((t) => isBusy(t.record)) ? new vscode.ThemeIcon('loading~spin') : new vscode.ThemeIcon('layout');
    item.tooltip = this.board;
    item.contextValue = BOARD_CONTEXT_VALUE;
    item.accessibilityInformation = { label: vscode.l10n.t('Storyboard {0}: {1}', name, this.summary) };
    item.command = { command: 'vscode.open', title: vscode.l10n.t('Open Storyboard'), arguments: [vscode.Uri.file(this.board)] };
    return item;
  }
}

/**
 * "2 made · 1 in progress · 1 not made": the states of a board's shots, the empty ones left out. A shot made again
 * (edited, then generated) has several tasks under the board: its newest one tells its state, so a 3-shot board
 * never reads "4 made".
 */
function boardSummary(tasks: readonly TaskRecord[]): string {
  const newest = new Map<string, TaskRecord>();
  for (const r of tasks) {
    const shot = r.shot?.shotId ?? r.id;
    const seen = newest.get(shot);
    if (!seen || r.requestedAt > seen.requestedAt) newest.set(shot, r);
  }
  const records = [...newest.values()];
  const made = records.filter((r) => savedFile(r)).length;
  const busy = records.filter((r) => !savedFile(r) && isBusy(r)).length;
  const other = records.length - made - busy;
  return [
    made ? vscode.l10n.t('{0} made', made) : '',
    busy ? vscode.l10n.t('{0} in progress', busy) : '',
    other ? vscode.l10n.t('{0} not made', other) : '',
  ].filter(Boolean).join(' · ');
}

const COUNTDOWN_MS = 30_000;

export class TaskTreeProvider implements vscode.TreeDataProvider<TaskTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TaskTreeNode | TaskTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly nodes = new Map<string, TaskNode>();
  private readonly boards = new Map<string, BoardNode>();
  private roots: TaskTreeNode[] = [];
  private countdown: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly source: TaskSource,
    private readonly now: () => number,
    private readonly posters?: PosterSource,
  ) {
    this.subscriptions = [source.onDidChange(() => this.sync())];
    if (posters) this.subscriptions.push(posters.onDidMake((video) => this.posterMade(video)));
    this.sync();
  }

  /** A poster is ready: the rows and video items showing that video are redrawn. */
  private posterMade(video: string): void {
    const nodes: TaskTreeNode[] = [];
    for (const node of this.nodes.values()) {
      if (savedFile(node.record) !== video) continue;
      nodes.push(node, ...node.getChildren());
    }
    if (nodes.length) this.changed.fire(nodes);
  }

  /** Takes the records as they are now and refreshes what changed (the whole list only when it changed shape). */
  sync(): void {
    const records = this.source.all();
    const batch = batchMembers(records);
    const changed: TaskTreeNode[] = [];
    let saved = 0;
    let reshaped = false;
    const seen = new Set<string>();
    const roots: TaskTreeNode[] = [];
    const grouped = new Map<string, TaskNode[]>();
    for (const r of records) {
      seen.add(r.id);
      let node = this.nodes.get(r.id);
      const board = r.shot ? resolve(r.shot.board) : undefined;
      const parent = board ? this.boardNode(board) : undefined;
      if (!node || node.parent !== parent) {
        node = node ?? new TaskNode(r, this.posters);
        node.parent = parent;
        node.update(r, batch.has(r.id));
        this.nodes.set(r.id, node);
        reshaped = true;
      } else if (node.update(r, batch.has(r.id))) {
        changed.push(node);
      }
      if (savedFile(r)) node.makePoster = saved++ < POSTERS_MADE_FOR;
      if (!board) {
        roots.push(node);
        continue;
      }
      // The board's row stands where its newest task would.
      const tasks = grouped.get(board);
      if (tasks) tasks.push(node);
      else {
        grouped.set(board, [node]);
        roots.push(this.boardNode(board));
      }
    }
    for (const [board, tasks] of grouped) {
      const node = this.boardNode(board);
      const before = node.tasks;
      if (node.update(tasks)) changed.push(node);
      if (before.length !== tasks.length || tasks.some((t, i) => before[i] !== t)) reshaped = true;
    }
    for (const id of [...this.nodes.keys()]) if (!seen.has(id)) this.nodes.delete(id);
    for (const board of [...this.boards.keys()]) if (!grouped.has(board)) this.boards.delete(board);
    if (roots.length !== this.roots.length || roots.some((n, i) => this.roots[i] !== n)) reshaped = true;
    this.roots = roots;
    if (reshaped) this.changed.fire(undefined);
    else if (changed.length) this.changed.fire(changed);
  }

  private boardNode(board: string): BoardNode {
    let node = this.boards.get(board);
    if (!node) this.boards.set(board, (node = new BoardNode(board)));
    return node;
  }

  nodeFor(recordId: string): TaskNode | undefined {
    return this.nodes.get(recordId);
  }

  getChildren(element?: TaskTreeNode): TaskTreeNode[] {
    return element ? element.getChildren() : this.roots;
  }

  getTreeItem(element: TaskTreeNode): vscode.TreeItem {
    return element.getTreeItem(this.now());
  }

  getParent(element: TaskTreeNode): TaskTreeNode | undefined {
    return element.parent;
  }

  /** The full details are built only when the user hovers the item. */
  resolveTreeItem(item: vscode.TreeItem, element: TaskTreeNode): vscode.TreeItem {
    if (element instanceof TaskNode) item.tooltip = detailsMarkdown(element.record, this.now());
    return item;
  }

  /** The countdown runs only while somebody can see it. */
  setVisible(visible: boolean): void {
    if (visible && !this.countdown) {
      this.countdown = setInterval(() => this.tick(), COUNTDOWN_MS);
      this.tick();
    } else if (!visible && this.countdown) {
      clearInterval(this.countdown);
      this.countdown = undefined;
    }
  }

  /** Refreshes the nodes whose time-dependent text changed; returns how many. */
  tick(): number {
    const now = this.now();
    const stale = [...this.nodes.values()].filter((n) => n.shown !== '' && n.timeText(now) !== n.shown);
    if (stale.length) this.changed.fire(stale);
    return stale.length;
  }

  dispose(): void {
    this.setVisible(false);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
