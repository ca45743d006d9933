// Where the service lives. Key, model and endpoint must belong to the same region.
import { z } from 'zod';

export const REGION_BASE_URLS = {
  beijing: 'https://dashscope.aliyuncs.com',
  singapore: 'https://dashscope-intl.aliyuncs.com',
} as const;

export const WorkspaceIdSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'must be the Workspace ID from the Model Studio console (letters, digits and dashes)');

export const EndpointSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('beijing') }),
  z.object({ kind: z.literal('singapore') }),
  z.object({ kind: z.literal('singapore-workspace'), workspaceId: WorkspaceIdSchema }),
  z.object({ kind: z.literal('custom'), baseUrl: z.string().trim().min(1, 'a custom base URL is required') }),
]);
export type Endpoint = z.infer<typeof EndpointSchema>;

/** Normalises a custom base URL: http(s) only, no credentials, no query, no trailing slash or `/api/v1`. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`"${raw}" must use http or https`);
  if (url.username || url.password) throw new Error('the base URL must not contain credentials');
  if (url.search || url.hash) throw new Error('the base URL must not contain a query or fragment');
  return url.href.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

export function resolveBaseUrl(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case 'beijing':
    case 'singapore':
      return REGION_BASE_URLS[endpoint.kind];
    case 'singapore-workspace':
      return `https://${WorkspaceIdSchema.parse(endpoint.workspaceId).toLowerCase()}.ap-southeast-1.maas.aliyuncs.com`;
    case 'custom':
      return normaliseBaseUrl(endpoint.baseUrl);
  }
}
