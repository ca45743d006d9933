// The generation page's typed view of the common channel (webview/common/rpc.ts): its requests, notifications
// and the host's messages.
import type { HostMessage, Method, PageMessage, ParamsOf, ReplyMessage, Results } from '../../src/protocol/generate';
import * as channel from '../common/rpc';

export const vscode = channel.vscode;

/** A refused request: the message, and the fields and next steps the host named. */
export class RequestError extends Error {
  constructor(readonly reply: Extract<ReplyMessage, { ok: false }>) {
    super(reply.error);
  }
}

// The host answers each method with its Results entry, and a refusal with this protocol's details
// (src/extension/panel/panel.ts's handler map and refusal).
export async function request<M extends Method>(method: M, params: ParamsOf<M>): Promise<Results[M]> {
  try {
    return (await channel.ask(method, params)) as Results[M];
  } catch (error) {
    if (error instanceof channel.RequestError) throw new RequestError(error.reply);
    throw error;
  }
}

export function notify(message: Exclude<PageMessage, { type: 'request' }>): void {
  channel.vscode.postMessage(message);
}

/** Routes replies to their requests and everything else to `onMessage`. */
export function listen(onMessage: (message: Exclude<HostMessage, ReplyMessage>) => void): void {
  channel.listen(onMessage);
}

/** Says ready until the host's init arrives. */
export function sayReady(greeted: () => boolean): void {
  channel.sayReady({ type: 'ready' } satisfies PageMessage, greeted);
}
