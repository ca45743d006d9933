// Every key the extension keeps in VS Code's Memento, with the type of its value, in one place (as
// secrets.ts holds the secret's id): a key cannot be misspelt, and a value is read as the type it was written.
import type * as vscode from 'vscode';

/** Per VS Code build and host: desktop 1.100 and a browser differ, and an update may change the answer. */
type DecodesAacKey = `player.decodesAac/${string}`;

interface StoredValues {
  /** The generation panel's last seed, for "reuse the last seed". */
  'wanStudio.lastSeed': number;
  /** Workspace state: the boards whose Generate is running in this workspace's window (paths); left there, one was cut short. */
  'wanStudio.storyboardRuns': string[];
  /** Whether this kind of window's webviews decode AAC sound (the player's page reported it). */
  [key: DecodesAacKey]: boolean;
}

export type StorageKey = keyof StoredValues;

export const StorageKeys = {
  lastSeed: 'wanStudio.lastSeed',
  storyboardRuns: 'wanStudio.storyboardRuns',
  decodesAac: (appHost: string, uiKind: vscode.UIKind, version: string): DecodesAacKey => `player.decodesAac/${appHost}/${uiKind}/${version}`,
} as const;

/** The Memento behind typed keys: global state (every window of this machine shares it), or a workspace's. */
export class TypedState {
  constructor(private readonly memento: vscode.Memento) {}

  get<K extends StorageKey>(key: K): StoredValues[K] | undefined {
    return this.memento.get<StoredValues[K]>(key);
  }

  update<K extends StorageKey>(key: K, value: StoredValues[K] | undefined): Thenable<void> {
    return this.memento.update(key, value);
  }
}
