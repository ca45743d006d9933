// The one request every page may send besides its own protocol's: a chunk of a file the host named (see
// ./mediaRef.ts for why media travel this way). The host validates it here, before it reads anything.
import { z } from 'zod';
import { MEDIA_CHUNK_BYTES, MEDIA_REF_PREFIX } from './mediaRef';
import { requestOf } from './rpc';

export const MediaChunkRequest = requestOf(
  'mediaChunk',
  z
    .object({
      ref: z.string().startsWith(MEDIA_REF_PREFIX).max(2000),
      offset: z.number().int().nonnegative(),
      length: z.number().int().positive().max(MEDIA_CHUNK_BYTES),
    })
    .strict(),
);
export type MediaChunkRequest = z.infer<typeof MediaChunkRequest>;
