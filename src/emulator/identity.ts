// How a client tells the rehearsal emulator from a paid endpoint: every answer of the emulator carries
// `X-Wan-Emulator: rehearsal`, and `GET /__emulator/info` answers without a key. Only a loopback address is
// asked (the emulator listens on loopback only), so a paid endpoint is never sent a request it did not need.
// No vscode and no server code: the CLI and the extension both use it.

export const EMULATOR_HEADER = 'X-Wan-Emulator';

/** True for an http(s) URL whose host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether the emulator answers on `url`: 'yes'; 'no' when something else or nothing answers there; 'slow' when
 * the request timed out. The key is never sent.
 */
export async function answers(url: string, timeoutMs = 2000): Promise<'yes' | 'no' | 'slow'> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/__emulator/info`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.headers.get(EMULATOR_HEADER) === 'rehearsal' ? 'yes' : 'no';
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? 'slow' : 'no';
  }
}

/**
 * True when `baseUrl` is the rehearsal emulator: a loopback address where it answers. Anything else (a gateway,
 * a proxy, no answer in time) counts as paid, the safe side: its videos count as spend and are never taken for
 * a rehearsal's.
 */
export async function isEmulatorAt(baseUrl: string, timeoutMs = 2000): Promise<boolean> {
  return isLoopbackUrl(baseUrl) && (await answers(baseUrl, timeoutMs)) === 'yes';
}
