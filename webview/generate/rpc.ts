// The page's side of the protocol: requests with ids that resolve with the host's reply, and notifications.
import type { HostMessage, Method, PageMessage, ParamsOf, ReplyMessage, Results } from '../../src/protocol/generate';

export interface VsCodeApi {
  postMessage(message: PageMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();

/** A refused request: the message, and the fields and next steps the host named. */
export class RequestError extends Error {
  constructor(readonly reply: Extract<ReplyMessage, { ok: false }>) {
    super(reply.error);
  }
}

let nextId = 1;
const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

export function request<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
  const id = nextId++;
  return new Promise<Results[M]>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
    vscode.postMessage({ type: 'request', id, method, params } as PageMessage);
  });
}

export function notify(message: Exclude<PageMessage, { type: 'request' }>): void {
  vscode.postMessage(message);
}

/** Routes replies to their requests and everything else to `onMessage`. */
export function listen(onMessage: (message: Exclude<HostMessage, ReplyMessage>) => void): void {
  window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
    const message = event.data;
    if (!message || typeof message !== 'object') return;
    if (message.type === 'reply') {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new RequestError(message));
      return;
    }
    onMessage(message);
  });
}
