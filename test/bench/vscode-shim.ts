// Just enough of the `vscode` module for the bench to run the real tree provider in plain Node.
// The classes do what VS Code's do for the tree's purposes (plain data holders); l10n.t formats.
/* eslint-disable @typescript-eslint/no-explicit-any */
export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  id?: string;
  description?: string;
  iconPath?: unknown;
  contextValue?: string;
  tooltip?: unknown;
  command?: unknown;
  resourceUri?: unknown;
  accessibilityInformation?: unknown;
  constructor(
    public label: string,
    public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class MarkdownString {
  supportHtml = false;
  constructor(
    public value = '',
    public isTrusted = false,
  ) {}
  appendMarkdown(text: string): this {
    this.value += text;
    return this;
  }
  appendText(text: string): this {
    this.value += text.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&');
    return this;
  }
}

export class Uri {
  private constructor(readonly fsPath: string) {}
  static file(path: string): Uri {
    return new Uri(path);
  }
}

export const l10n = {
  t: (message: string, ...args: any[]) => message.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)])),
};

/** For the activation figure: the registrations the activation shell makes, as no-ops. */
export class Disposable {
  constructor(private readonly onDispose: () => unknown = () => undefined) {}
  dispose(): void {
    this.onDispose();
  }
}

export const window = {
  createTreeView: () => new Disposable(),
  registerWebviewPanelSerializer: () => new Disposable(),
  registerWebviewViewProvider: () => new Disposable(),
  registerCustomEditorProvider: () => new Disposable(),
};

export const commands = {
  registerCommand: () => new Disposable(),
};

/** Settings as a fresh profile has them: every read gets its default. */
export const workspace = {
  getConfiguration: () => ({ get: <T>(_key: string, fallback?: T) => fallback }),
};
