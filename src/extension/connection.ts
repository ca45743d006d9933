// Builds WanClients from the stored key and the configured endpoint (starting the emulator if chosen).
// The key goes only to the endpoint configured in user settings: a task made on another endpoint waits
// until that endpoint is configured again.
import * as vscode from 'vscode';
import type { Dispatcher } from 'undici';
import type { EmulatorProcess } from './emulatorProcess';
import type { ApiKeyStore } from './secrets';
import { readEndpoint } from './settings';
import { ServiceClock, observeServiceClock, originOf } from './serviceClock';
import type { EngineConnection } from '../tasks/engine';
import type { EndpointRef } from '../tasks/record';
import { WanClient, WanConfigError, resolveBaseUrl } from '../wan';
import { DEFAULT_TIMEOUTS, createDispatcher } from '../wan/http';
import type { RetryPolicy } from '../wan/retry';

/**
 * Sent to the local emulator when no key is stored, so rehearsals need no account. It is not a secret
 * and never goes anywhere but the emulator.
 */
export const REHEARSAL_KEY = 'sk-wan-studio-rehearsal';

/** The settings or the key do not let a request be sent. A WanConfigError, so every table of advice offers Set Key and Open Settings. */
export class NotConfiguredError extends WanConfigError {
  constructor(message: string) {
    super('NotConfigured', message);
  }
}

const noKeyMessage = () => vscode.l10n.t('No API key is set. Run "Wan Studio: Set DashScope API Key" first.');

export interface Connection {
  client: WanClient;
  baseUrl: string;
  /** True for the local emulator: results are rehearsals, not the Wan model's output. */
  rehearsal: boolean;
  endpoint: EndpointRef;
}

function sameEndpoint(a: EndpointRef, b: EndpointRef): boolean {
  return a.kind === b.kind && (a.kind === 'emulator' || a.baseUrl === b.baseUrl);
}

export class ConnectionFactory implements vscode.Disposable {
  /** One connection pool for every client: it also shows each answer's Date header to the clock. */
  private readonly dispatcher: Dispatcher;
  private configuredOrigin: string | undefined;

  constructor(
    private readonly apiKeys: ApiKeyStore,
    private readonly emulator: EmulatorProcess,
    private readonly log: vscode.LogOutputChannel,
    readonly clock: ServiceClock = new ServiceClock(),
  ) {
    this.dispatcher = createDispatcher(DEFAULT_TIMEOUTS).compose(observeServiceClock(clock));
  }

  /** The service's time for the configured endpoint, as far as its answers tell (see ServiceClock). */
  now(): number {
    return this.clock.now(this.configuredOrigin);
  }

  /** The configured endpoint; throws NotConfiguredError with a message fit for the user. */
  async endpoint(): Promise<EndpointRef> {
    const setting = readEndpoint();
    if ('problem' in setting) throw new NotConfiguredError(setting.problem);
    const baseUrl = setting.endpoint.kind === 'emulator' ? await this.emulator.url() : resolveBaseUrl(setting.endpoint);
    this.configuredOrigin = originOf(baseUrl);
    return { kind: setting.endpoint.kind, baseUrl };
  }

  /**
   * A new client for the configured endpoint or, for a task, its own endpoint (which must be the
   * configured one). The caller closes it. Throws NotConfiguredError with a message fit for the user.
   * `retry` replaces parts of the client's retry policy (a check the user waits on gives up sooner).
   */
  async connect(forTask?: EndpointRef, options: { retry?: Partial<RetryPolicy> } = {}): Promise<Connection> {
    const endpoint = await this.endpoint();
    if (forTask && !sameEndpoint(forTask, endpoint)) {
      throw new NotConfiguredError(
        vscode.l10n.t('This task belongs to {0}, which is not the configured endpoint; set wanStudio.endpoint back to it to continue the task.', forTask.kind === 'emulator' ? vscode.l10n.t('the rehearsal emulator') : forTask.baseUrl),
      );
    }
    const rehearsal = endpoint.kind === 'emulator';
    const apiKey = (await this.apiKeys.get()) ?? (rehearsal ? REHEARSAL_KEY : undefined);
    if (!apiKey) throw new NotConfiguredError(noKeyMessage());
    const client = new WanClient({
      baseUrl: endpoint.baseUrl,
      apiKey,
      dispatcher: this.dispatcher,
      retry: options.retry,
      onEvent: (e) => {
        if (e.kind === 'retry') this.log.warn(`${e.what}: ${e.reason}; retry ${e.attempt} in ${e.delayMs} ms`);
      },
    });
    return { client, baseUrl: endpoint.baseUrl, rehearsal, endpoint };
  }

  /**
   * Refuses, before a request is admitted (its spend caps asked, its files uploaded), one that could never be
   * sent: a paid endpoint with no key stored. The emulator needs none.
   */
  async requireKey(endpoint: EndpointRef): Promise<void> {
    if (endpoint.kind !== 'emulator' && !(await this.apiKeys.get())) throw new NotConfiguredError(noKeyMessage());
  }

  /** The engine's view: a client and the endpoint it talks to. */
  async connectEngine(forTask?: EndpointRef): Promise<EngineConnection> {
    const { client, endpoint } = await this.connect(forTask);
    return { client, endpoint };
  }

  dispose(): void {
    void this.dispatcher.close().catch(() => undefined);
  }
}
