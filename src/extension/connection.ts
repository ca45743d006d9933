// Builds a WanClient from the stored key and the configured endpoint (starting the emulator if chosen).
import * as vscode from 'vscode';
import type { EmulatorProcess } from './emulatorProcess';
import type { ApiKeyStore } from './secrets';
import { readEndpoint } from './settings';
import { WanClient, resolveBaseUrl } from '../wan';

export class NotConfiguredError extends Error {
  override readonly name = 'NotConfiguredError';
}

export interface Connection {
  client: WanClient;
  baseUrl: string;
  /** True for the local emulator: results are rehearsals, not the Wan model's output. */
  rehearsal: boolean;
}

export class ConnectionFactory {
  constructor(
    private readonly apiKeys: ApiKeyStore,
    private readonly emulator: EmulatorProcess,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /**
   * A new client; the caller closes it. Throws NotConfiguredError with a message fit for the user.
   * `rehearsalWithoutKey`: the emulator takes any key, so generating there needs none stored.
   */
  async connect(options: { rehearsalWithoutKey?: boolean } = {}): Promise<Connection> {
    const setting = readEndpoint();
    if ('problem' in setting) throw new NotConfiguredError(setting.problem);
    const stored = await this.apiKeys.get();
    const apiKey = stored ?? (options.rehearsalWithoutKey && setting.endpoint.kind === 'emulator' ? 'sk-rehearsal-no-key' : undefined);
    if (!apiKey) throw new NotConfiguredError(vscode.l10n.t('No API key is set. Run "Wan Studio: Set DashScope API Key" first.'));
    const rehearsal = setting.endpoint.kind === 'emulator';
    const baseUrl = setting.endpoint.kind === 'emulator' ? await this.emulator.url() : resolveBaseUrl(setting.endpoint);
    const client = new WanClient({
      baseUrl,
      apiKey,
      onEvent: (e) => {
        if (e.kind === 'retry') this.log.warn(`${e.what}: ${e.reason}; retry ${e.attempt} in ${e.delayMs} ms`);
      },
    });
    return { client, baseUrl, rehearsal };
  }
}
