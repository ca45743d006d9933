// What the Gallery knows of a saved video, and how its list is filtered: zod only (no Node module), so the
// Gallery's protocol (src/protocol/gallery.ts) derives its card from the entry instead of repeating its fields.
import { z } from 'zod';
import { MODES } from '../protocol/generate';

export const GALLERY_MODES = [...MODES, 'unknown'] as const;
export const GalleryModeSchema = z.enum(GALLERY_MODES);
export type GalleryMode = z.infer<typeof GalleryModeSchema>;

export const GalleryEntrySchema = z.object({
  /** The task ID, or the file's path when nothing names its task. */
  key: z.string(),
  taskId: z.string().optional(),
  /** The task list's record, when it holds this video. */
  recordId: z.string().optional(),
  file: z.string(),
  /** The record beside the video, when there is one. */
  sidecar: z.string().optional(),
  prompt: z.string(),
  mode: GalleryModeSchema,
  /** When it was made (epoch ms): the task's end, else the file's modification time. */
  madeAt: z.number(),
  bytes: z.number(),
  rehearsal: z.boolean(),
  durationS: z.number().optional(),
  resolution: z.string().optional(),
  /** Where it came from: the task list, a record beside it, or its name alone. */
  source: z.enum(['task', 'sidecar', 'file']),
});
export type GalleryEntry = z.infer<typeof GalleryEntrySchema>;

export const GalleryFilterSchema = z
  .object({
    /** Words that must all appear in the prompt or the file name (any case). */
    query: z.string().max(500).default(''),
    mode: GalleryModeSchema.or(z.literal('all')).default('all'),
    /** Made on or after / before these (epoch ms). */
    from: z.number().optional(),
    to: z.number().optional(),
  })
  .strict();
export type GalleryFilter = z.input<typeof GalleryFilterSchema>;
