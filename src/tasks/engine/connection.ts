// One way to talk to the service for a job: connect, run, and always close the client.
import type { WanClient } from '../../wan';
import type { EndpointRef } from '../record';

export interface EngineConnection {
  client: WanClient;
  endpoint: EndpointRef;
}

export type Connect = (endpoint?: EndpointRef) => Promise<EngineConnection>;

/**
 * Runs `fn` with a client for `endpoint` (the configured one when undefined) and closes it after. A failure
 * to connect goes to `onConnectFailed` when given (the job decides what waiting means), else it is thrown.
 */
export async function withConnection<T>(
  connect: Connect,
  endpoint: EndpointRef | undefined,
  fn: (conn: EngineConnection) => Promise<T>,
  onConnectFailed?: (error: unknown) => Promise<T>,
): Promise<T> {
  let conn: EngineConnection;
  try {
    conn = await connect(endpoint);
  } catch (error) {
    if (!onConnectFailed) throw error;
    return onConnectFailed(error);
  }
  try {
    return await fn(conn);
  } finally {
    await conn.client.close();
  }
}
