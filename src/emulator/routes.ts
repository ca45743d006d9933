// Which route of the API (or of the emulator's own control plane) a request is for.
export const CREATE_PATH = '/api/v1/services/aigc/video-generation/video-synthesis';

export type Route =
  | { name: 'create' }
  | { name: 'task'; id: string }
  | { name: 'cancel'; id: string }
  | { name: 'list' }
  | { name: 'policy' }
  | { name: 'upload' }
  | { name: 'download'; file: string }
  | { name: 'control'; what: string }
  | { name: 'none' };

export function matchRoute(method: string, path: string): Route {
  if (path === CREATE_PATH && method === 'POST') return { name: 'create' };
  if (/^\/api\/v1\/tasks\/?$/.test(path) && method === 'GET') return { name: 'list' };
  let m = /^\/api\/v1\/tasks\/([^/]+)\/cancel\/?$/.exec(path);
  if (m && method === 'POST') return { name: 'cancel', id: decodeURIComponent(m[1]!) };
  m = /^\/api\/v1\/tasks\/([^/]+)\/?$/.exec(path);
  if (m && method === 'GET') return { name: 'task', id: decodeURIComponent(m[1]!) };
  if (path === '/api/v1/uploads' && method === 'GET') return { name: 'policy' };
  if (path === '/__oss' && method === 'POST') return { name: 'upload' };
  m = /^\/__emulator\/files\/([A-Za-z0-9-]+\.mp4)$/.exec(path);
  if (m && (method === 'GET' || method === 'HEAD')) return { name: 'download', file: m[1]! };
  m = /^\/__emulator(?:\/(clock|faults|requests|info|hold))?\/?$/.exec(path);
  if (m) return { name: 'control', what: m[1] ?? 'info' };
  return { name: 'none' };
}
