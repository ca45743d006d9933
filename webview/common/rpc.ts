// The page's side of the one message style (src/protocol/rpc.ts): requests to the host that resolve with its
// reply, answers to the host's own requests, notifications, and saying ready until the host greets the page.

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** VS Code allows one acquisition per page. */
export const vscode = acquireVsCodeApi();

/** A reply from the host, as the page receives it. */
export type HostReply = { type: 'reply'; id: number; ok: true; result: unknown } | { type: 'reply'; id: number; ok: false; error: string };
/** A request from the host, as the page receives it. */
export interface HostRequest {
  type: 'request';
  id: number;
  method: string;
  params: unknown;
}

/** A refused request: the host's message, and the whole reply (fields and next steps, when its protocol adds them). */
export class RequestError extends Error {
  constructor(readonly reply: Extract<HostReply, { ok: false }>) {
    super(reply.error);
  }
}

let nextId = 1;
const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

/** Sends a request; resolves with the host's result (the host types it per method), rejects with a RequestError. */
export function ask(method: string, params: unknown): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    vscode.postMessage({ type: 'request', id, method, params });
  });
}

/**
 * Routes the host's messages: replies to the page's requests, the host's requests to `answers` (each answered
 * with a reply: its result, or its error), everything else to `onMessage`.
 */
export function listen<M extends { type: string }>(onMessage: (message: M) => void, answers: Record<string, ((params: never) => Promise<unknown>) | undefined> = {}): void {
  window.addEventListener('message', (event: MessageEvent<M | HostReply | HostRequest>) => {
    const message = event.data;
    if (!message || typeof message !== 'object') return;
    if (isReply(message)) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new RequestError(message));
      return;
    }
    if (isRequest(message)) {
      const { id, method } = message;
      const answer = answers[method];
      if (!answer) {
        vscode.postMessage({ type: 'reply', id, ok: false, error: `the page cannot answer ${method}` });
        return;
      }
      // The host validated what it asks; the handler's params are its method's.
      answer(message.params as never).then(
        (result) => vscode.postMessage({ type: 'reply', id, ok: true, result }),
        (error: unknown) => vscode.postMessage({ type: 'reply', id, ok: false, error: (error instanceof Error ? error.message : String(error)).slice(0, 2000) }),
      );
      return;
    }
    onMessage(message);
  });
}

/**
 * Says ready until `greeted()` (a message to a webview that is being shown again can be lost); once when `everyMs`
 * is 0, for pages whose every ready starts work on the host.
 */
export function sayReady<R extends { type: 'ready' }>(message: R, greeted: () => boolean, everyMs = 1500): void {
  const hello = () => {
    if (greeted()) return;
    vscode.postMessage(message);
    if (everyMs > 0) setTimeout(hello, everyMs);
  };
  hello();
}

function isReply(message: { type: string }): message is HostReply {
  return message.type === 'reply';
}
function isRequest(message: { type: string }): message is HostRequest {
  return message.type === 'request';
}
