// The host side every webview panel shares: its disposables, the ready handshake (with a reload when the page
// stays silent), an outbox held until the page is ready, zod validation of every message from the page, and
// one message style (src/protocol/rpc.ts): requests with ids answered by the handler of their method, replies
// to the host's own requests (with a timeout), and notifications by type. Media reach every page the same
// way: named here, read in chunks on the page's request (./mediaLinks.ts).
import * as vscode from 'vscode';
import type { z } from 'zod';
import { UserError } from '../userError';
import { MediaChunkRequest } from '../../protocol/media';
import { dispatch, parseWith, type NotificationHandlers, type Reply, type RequestHandlers } from '../../protocol/rpc';
import { MediaLinks } from './mediaLinks';

const READY_TIMEOUT_MS = 5000;
/** An owner puts a blank page in a new panel once a minute at most, so a page that cannot load anywhere does not open panel after panel. */
export const RECREATE_EVERY_MS = 60_000;
const READY_RELOADS = 3;
const ASK_TIMEOUT_MS = 60_000;

/** A request from the page, one member per method. */
export type RequestMessage<P> = { [M in keyof P]: { type: 'request'; id: number; method: M; params: P[M] } }[keyof P];

export interface HostOptions<P, N extends { type: string }> {
  /** For the log: "Generator", "Player". */
  name: string;
  log: vscode.LogOutputChannel;
  /** Every message from the page: requests, replies to the host's requests, notifications (with `ready`). */
  schema: z.ZodType<RequestMessage<P> | N | { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: string }>;
  /** Called once the panel is closed (the owner forgets it). */
  onDispose: () => void;
  /** The generator keeps a page that stays blank loading again; tests may shorten the wait. */
  readyTimeoutMs?: number;
  /**
   * When the page is still silent after a reload: the owner puts it in a new panel (a new webview) and
   * disposes this one; false when it cannot (then the page is loaded again, as before).
   */
  recreate?: () => boolean;
}

/**
 * Every page's webview options. No local resource roots: a page's script and style are written into its HTML
 * and its media come over the message channel (./mediaLinks.ts), so nothing may load from disk through the
 * resource loader, which also keeps code-server 1.100's worker stall away (src/protocol/mediaRef.ts). What a page
 * may show is each host's own rule, applied when it names a file (`media.link`).
 */
export const PAGE_OPTIONS: vscode.WebviewOptions = Object.freeze({ enableScripts: true, localResourceRoots: [] });

/** Pages whose `ready` the next hosts ignore (tests: a page that never loads, as code-server's race leaves it). */
let silentPages = 0;
export function silenceNextPages(count: number): void {
  silentPages = count;
}

/** Where a page lives: an editor panel, or a view in a side bar (the Gallery). */
export type HostSurface = vscode.WebviewPanel | vscode.WebviewView;

function isPanel(surface: HostSurface): surface is vscode.WebviewPanel {
  return 'reveal' in surface;
}

/**
 * `P`: each request method's params; `R`: each method's result; `N`: the page's notifications (one is `ready`);
 * `Out`: what the host sends (replies included); `E`: what an error reply carries besides its message;
 * `S`: the surface (a panel unless said otherwise).
 */
export abstract class WebviewHost<
  P,
  R extends { [M in keyof P]: unknown },
  N extends { type: string },
  Out extends { type: string },
  E extends object = object,
  S extends HostSurface = vscode.WebviewPanel,
> implements vscode.Disposable
{
  protected readonly disposables: vscode.Disposable[] = [];
  protected disposed = false;
  private ready = false;
  private readonly outbox: Out[] = [];
  private readyWaiters: (() => void)[] = [];
  private readyTimer: NodeJS.Timeout | undefined;
  private readonly asked = new Map<number, { settle: (reply: { ok: true; result: unknown } | { ok: false; error: string }) => void }>();
  private nextAskId = 1;
  private readonly silent = silentPages > 0 && silentPages-- > 0;
  /** The files this page may show, by the references it was given (`media.link(file)`). */
  protected readonly media = new MediaLinks();

  protected abstract readonly requests: RequestHandlers<P, R>;
  protected abstract readonly notifications: NotificationHandlers<Exclude<N, { type: 'ready' }>>;
  /** The page's HTML (loaded again when it stays silent). */
  protected abstract html(): string;
  /** The page said ready (first load, or after it was hidden or reloaded). `message` is its `ready`. */
  protected abstract greet(message: Extract<N, { type: 'ready' }>): void | Promise<void>;
  /** A reply to one of the page's requests, as the host sends it (undefined: the page asks nothing). */
  protected abstract replyMessage(reply: Reply<R[keyof P], E>): Out | undefined;

  constructor(
    readonly panel: S,
    private readonly options: HostOptions<P, N>,
  ) {
    const surface: HostSurface = panel;
    panel.webview.options = PAGE_OPTIONS;
    const visibilityChanged = () => {
      // A hidden webview is torn down; hold messages until the reloaded page says ready again.
      this.log.debug(`${options.name}: visible ${panel.visible}`);
      if (!panel.visible) this.ready = false;
      else this.watchReady();
    };
    // Listen before the HTML is set, so the first `ready` is never missed.
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      isPanel(surface) ? surface.onDidChangeViewState(visibilityChanged) : surface.onDidChangeVisibility(visibilityChanged),
      panel.onDidDispose(() => {
        options.onDispose();
        this.dispose();
      }),
    );
  }

  protected get log(): vscode.LogOutputChannel {
    return this.options.log;
  }

  /** Sets the page's HTML and watches for its ready. Subclasses call it once their state is set. */
  protected loadPage(): void {
    this.panel.webview.html = this.html();
    this.watchReady();
  }

  /**
   * A webview shown again right after it was hidden can miss its first load; and in code-server 1.100 a webview
   * opened while another one's resource load is pending (VS Code's own previews still load that way; ours no
   * longer do, see src/protocol/mediaRef.ts) stays blank until that load ends or times out (30 s). If the page
   * hasn't said ready in time, load it again, a few times at most.
   *
   * A reload cannot help a page that lost code-server 1.100's registration race: its webview frame registers
   * the service worker under its own URL and listens for the worker to take over only once that registration
   * resolves; when another webview's worker took over first, the frame waits for a change that never comes, and
   * the page stays blank for good (the trial's panel after VS Code's video preview, 150 s). Only a new webview
   * registers again, so after one reload the owner may put the page in a new panel (`recreate`).
   */
  private watchReady(attempt = 1): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    const timeout = this.options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    this.readyTimer = setTimeout(() => {
      this.readyTimer = undefined;
      if (this.ready || this.disposed || !this.panel.visible) return;
      if (attempt === 2 && this.options.recreate?.()) return;
      if (attempt > READY_RELOADS) {
        this.log.warn(`${this.options.name}: the page did not load; close and reopen it.`);
        return;
      }
      this.log.warn(`${this.options.name}: the page did not say ready within ${timeout / 1000} s; loading it again.`);
      this.panel.webview.html = this.html();
      this.watchReady(attempt + 1);
    }, timeout);
  }

  /** Resolves once the page has said ready (at once when it already has). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Those waiting for this page's ready wait for the page that replaces it instead. */
  handOver(next: { whenReady(): Promise<void> }): void {
    for (const w of this.readyWaiters.splice(0)) void next.whenReady().then(w);
  }

  /** Sends now, or when the page is ready. */
  protected post(message: Out): void {
    if (this.disposed) return;
    if (!this.ready) {
      this.outbox.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  /** Held messages the page no longer needs once it has been greeted (the greeting carries them). */
  protected stale(_message: Out): boolean {
    return false;
  }

  /**
   * Asks the page (`request` builds the message for an id); resolves with its result checked by `result`,
   * rejects on an error reply, an answer that fails the schema, the timeout or the panel closing.
   */
  protected ask<T>(method: string, request: (id: number) => Out, result: z.ZodType<T>, timeoutMs = ASK_TIMEOUT_MS): Promise<T> {
    const id = this.nextAskId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        reject(new Error(`The page did not answer ${method} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.asked.set(id, {
        settle: (reply) => {
          clearTimeout(timer);
          this.asked.delete(id);
          if (!reply.ok) return reject(new Error(reply.error));
          const checked = parseWith(result, reply.result);
          if (checked.ok) resolve(checked.message);
          else reject(new Error(`The page answered ${method} with something the extension cannot accept: ${checked.error.slice(0, 500)}`));
        },
      });
      this.post(request(id));
    });
  }

  /** How a failed request is told to the page (with the fields or next steps the protocol adds). */
  protected abstract refusal(error: unknown): { error: string } & E;
  /**
   * The plain refusal: the error's message for the page, and a line in the log when the user did not cause
   * it (a UserError is their input refused, not a fault).
   */
  protected messageRefusal(error: unknown): { error: string } {
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof UserError)) this.log.warn(`${this.options.name}: ${message}`);
    return { error: message };
  }
  /**
   * Hands a notification to its handler (`notifyHandler(this.notifications, message.type, message)`). A page
   * that sends none but `ready` keeps this default.
   */
  protected notify(_message: Exclude<N, { type: 'ready' }>): void | Promise<void> {}

  /** Handles one raw message from the page; returns the reply it sent (for requests). Never throws. */
  async receive(raw: unknown): Promise<Reply<R[keyof P], E> | undefined> {
    const chunk = MediaChunkRequest.safeParse(raw);
    if (chunk.success) {
      await this.sendMedia(chunk.data);
      return undefined;
    }
    const parsed = parseWith(this.options.schema, raw);
    if (!parsed.ok) return this.refuse(raw, parsed.error);
    const message = parsed.message;
    try {
      if (isRequest<P>(message)) return await this.answer(message);
      if (isReply(message)) {
        const waiter = this.asked.get(message.id);
        if (!waiter) this.log.debug(`${this.options.name}: a reply nobody waits for (${message.id}).`);
        waiter?.settle(message.ok ? { ok: true, result: message.result } : { ok: false, error: message.error ?? '' });
        return undefined;
      }
      if (isReady(message)) {
        if (this.silent) this.log.debug(`${this.options.name}: ignored the page's ready (a test's silent page).`);
        else await this.onReady(message);
      } else if (isNotReady(message)) await this.notify(message);
    } catch (error) {
      this.log.error(`${this.options.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return undefined;
  }

  /** A chunk of a named file, straight to the page (its bytes cross the channel as binary, not as JSON). */
  private async sendMedia({ id, params }: MediaChunkRequest): Promise<void> {
    let reply: object;
    try {
      reply = { type: 'reply', id, ok: true, result: await this.media.read(params.ref, params.offset, params.length) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.warn(`${this.options.name}: cannot read ${this.media.fileOf(params.ref) ?? params.ref}: ${reason}`);
      reply = { type: 'reply', id, ok: false, error: vscode.l10n.t('This file cannot be shown: {0}', reason) };
    }
    if (!this.disposed) void this.panel.webview.postMessage(reply);
  }

  private refuse(raw: unknown, problem: string): Reply<R[keyof P], E> | undefined {
    this.log.warn(`${this.options.name}: refused a malformed message from the page: ${problem.slice(0, 500)}`);
    const id = raw && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'number' && Number.isInteger(raw.id) ? raw.id : undefined;
    const isRequestShaped = raw && typeof raw === 'object' && 'type' in raw && raw.type === 'request';
    if (id === undefined || !isRequestShaped) return undefined;
    const reply: Reply<R[keyof P], E> = { ...this.refusal(new MalformedMessage()), type: 'reply', id, ok: false };
    this.send(reply);
    return reply;
  }

  private async answer(request: RequestMessage<P>): Promise<Reply<R[keyof P], E>> {
    let reply: Reply<R[keyof P], E>;
    try {
      const result = await dispatch<P, R, keyof P>(this.requests, request.method, request.params);
      reply = { type: 'reply', id: request.id, ok: true, result };
    } catch (error) {
      reply = { ...this.refusal(error), type: 'reply', id: request.id, ok: false };
    }
    this.send(reply);
    return reply;
  }

  private send(reply: Reply<R[keyof P], E>): void {
    const message = this.replyMessage(reply);
    if (message) this.post(message);
  }

  private async onReady(message: Extract<N, { type: 'ready' }>): Promise<void> {
    this.log.debug(`${this.options.name}: the page is ready.`);
    this.ready = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = undefined;
    const greeting = this.greet(message);
    for (const m of this.outbox.splice(0)) if (!this.stale(m)) void this.panel.webview.postMessage(m);
    for (const w of this.readyWaiters.splice(0)) w();
    await greeting;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.media.clear();
    for (const { settle } of [...this.asked.values()]) settle({ ok: false, error: 'The panel was closed.' });
    for (const d of this.disposables.splice(0)) d.dispose();
    const surface: HostSurface = this.panel;
    // A view is VS Code's to close; a panel is closed with its host.
    if (isPanel(surface)) surface.dispose();
  }
}

/** A message from the page that fails its schema (the refusal says so, and nothing else). */
export class MalformedMessage extends Error {
  constructor() {
    super(vscode.l10n.t('The panel sent a message the extension cannot accept.'));
  }
}

function isRequest<P>(message: { type: string }): message is RequestMessage<P> {
  return message.type === 'request';
}

function isReply(message: { type: string }): message is { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: string } {
  return message.type === 'reply';
}

function isNotReady<N extends { type: string }>(message: N): message is Exclude<N, { type: 'ready' }> {
  return message.type !== 'ready';
}

function isReady<N extends { type: string }>(message: N): message is Extract<N, { type: 'ready' }> {
  return message.type === 'ready';
}
