import { createHash } from 'node:crypto';
import * as vscode from 'vscode';

/** The SecretStorage id under which the DashScope API key is kept. */
export const API_KEY_SECRET_ID = 'wanStudio.apiKey';

/** Why a candidate API key is refused, or undefined when it is acceptable. */
export type ApiKeyProblem = 'empty' | 'whitespace';

/** Checks a candidate key after trimming: it must be non-empty and contain no whitespace. */
export function checkApiKey(raw: string): ApiKeyProblem | undefined {
  const key = raw.trim();
  if (key.length === 0) return 'empty';
  if (/\s/.test(key)) return 'whitespace';
  return undefined;
}

/** First 12 hex characters of the key's SHA-256: identifies a key without revealing it. */
export function apiKeyFingerprint(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12);
}

/**
 * The DashScope API key in VS Code's SecretStorage. Input is trimmed; the key itself is never logged.
 */
export class ApiKeyStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly listener: vscode.Disposable;

  /** Fires when the stored key is set, replaced or removed (also from another window). */
  readonly onDidChange: vscode.Event<void> = this.changed.event;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.listener = secrets.onDidChange((e) => {
      if (e.key === API_KEY_SECRET_ID) this.changed.fire();
    });
  }

  async get(): Promise<string | undefined> {
    const key = await this.secrets.get(API_KEY_SECRET_ID);
    return key === undefined || key.length === 0 ? undefined : key;
  }

  async has(): Promise<boolean> {
    return (await this.get()) !== undefined;
  }

  /** Stores the trimmed key; throws (without echoing the key) when it is refused by {@link checkApiKey}. */
  async set(raw: string): Promise<void> {
    const problem = checkApiKey(raw);
    if (problem) throw new Error(`API key refused: ${problem === 'empty' ? 'it is empty' : 'it contains whitespace'}`);
    await this.secrets.store(API_KEY_SECRET_ID, raw.trim());
  }

  async clear(): Promise<void> {
    await this.secrets.delete(API_KEY_SECRET_ID);
  }

  async fingerprint(): Promise<string | undefined> {
    const key = await this.get();
    return key === undefined ? undefined : apiKeyFingerprint(key);
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
