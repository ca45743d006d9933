// The one message style both webviews speak, whichever side asks: a request carries an id and gets exactly one
// reply with that id (a result, or an error); everything else is a notification named by its `type`.
// Host and page both import it; it holds no vscode and no DOM.
import { z } from 'zod';

export const RequestId = z.number().int().nonnegative();

/** A request's schema: `{ type: 'request', id, method, params }`. */
export const requestOf = <M extends string, P extends z.ZodType>(method: M, params: P) =>
  z.object({ type: z.literal('request'), id: RequestId, method: z.literal(method), params }).strict();

/** A failed request: a message for the user, plus whatever the protocol adds (fields, next steps). */
export interface ErrorReply {
  type: 'reply';
  id: number;
  ok: false;
  error: string;
}
export type Reply<R, E extends object = object> = { type: 'reply'; id: number; ok: true; result: R } | (ErrorReply & E);

/**
 * A reply as it arrives from a page, before its result is checked against the request that asked for it
 * (the asker knows the method, so it validates `result` with that method's schema).
 */
export const IncomingReply = z.union([
  z.object({ type: z.literal('reply'), id: RequestId, ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ type: z.literal('reply'), id: RequestId, ok: z.literal(false), error: z.string().max(2000) }).strict(),
]);
export type IncomingReply = z.infer<typeof IncomingReply>;

/** What answers each method: derived from the params and results maps, so dispatch needs no cast. */
export type RequestHandlers<P, R extends { [M in keyof P]: unknown }> = { [M in keyof P]: (params: P[M]) => Promise<R[M]> };

/** Notifications by their `type`. */
export type ByType<N extends { type: string }> = { [T in N['type']]: Extract<N, { type: T }> };

/** One handler per notification `type`, each given its own message. */
export type NotificationHandlers<N extends { type: string }> = { [T in keyof ByType<N>]: (message: ByType<N>[T]) => void | Promise<void> };

/** Calls the handler of `method` (its parameter and result types follow from the method). */
export function dispatch<P, R extends { [M in keyof P]: unknown }, M extends keyof P>(
  handlers: RequestHandlers<P, R>,
  method: M,
  params: P[M],
): Promise<R[M]> {
  return handlers[method](params);
}

/** Calls the handler of a notification's type (called with `message.type, message`). */
export function notifyHandler<N extends { type: string }, T extends keyof ByType<N>>(
  handlers: NotificationHandlers<N>,
  type: T,
  message: ByType<N>[T],
): void | Promise<void> {
  return handlers[type](message);
}

/** Validates with a schema; never throws. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown): { ok: true; message: T } | { ok: false; error: string } {
  const result = schema.safeParse(raw);
  return result.success ? { ok: true, message: result.data } : { ok: false, error: z.prettifyError(result.error) };
}
