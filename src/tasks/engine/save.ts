// The save job: a succeeded task's video is downloaded once into its folder (resumed after a killed window,
// never a second copy), then the record beside it is written; a link refused near its expiry is called
// expired only after it was tried. Also: the leftovers of killed downloads, and the warning before expiry.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFAULT_RETRY, WanApiError, expectedVideoSeconds, explainError, isTransient } from '../../wan';
import { downloadFile } from '../../wan/download';
import { parseServiceTime } from '../../wan/time';
import { freeVideoPath, videoBaseName } from '../naming';
import { expiresAt, type TaskRecord } from '../record';
import { sidecarFor, sidecarPathOf, writeSidecar } from '../sidecar';
import { EXPIRY_MARGIN_MS, SAVE_ATTEMPTS, STALE_PART_MS, WARN_BEFORE_EXPIRY_MS } from './constants';
import { announce, type JobContext } from './context';

export async function runSave(ctx: JobContext, id: string): Promise<void> {
  const r = ctx.store.get(id);
  if (!r?.videoUrl || !r.taskId || r.state !== 'succeeded' || r.save?.state === 'saved') return;
  // No verdict from the clock alone: ours and the service's may disagree, so the link is always tried.
  const at = expiresAt(r);
  const folder = r.outputFolder ?? (await ctx.deps.outputFolderFor?.(r));
  if (!folder) {
    await ctx.store.patch(id, (t) => (t.save = { state: 'failed', attempts: t.save?.attempts ?? 0, error: 'no folder to save the video in: open a workspace folder or set wanStudio.outputFolder, then retry' }));
    return;
  }
  await ctx.store.patch(id, (t) => {
    t.outputFolder = folder;
    t.save = { state: 'saving', attempts: (t.save?.attempts ?? 0) + 1 };
  });
  try {
    await mkdir(folder, { recursive: true });
    // Saved before (a record lost with the task list, a cleared list synced again): never a second copy.
    if (await takeSavedVideo(ctx, id, false)) return;
    const base = videoBase(r);
    const paths = await freeVideoPath(folder, base);
    const { bytes } = await downloadFile(r.videoUrl, paths.video, {
      retry: DEFAULT_RETRY,
      signal: ctx.signal,
      part: join(folder, `.${base}.part`),
      // A fragmented MP4 cut between fragments looks whole: its length must be the task's.
      expectedSeconds: expectedVideoSeconds(r.usage),
    });
    // The video is in place: the task is saved, whatever happens to the record beside it.
    await ctx.store.patch(id, (t) => (t.save = { state: 'saved', file: paths.video, bytes, attempts: t.save?.attempts ?? 1, pendingRecord: { attempts: 0 } }));
    ctx.deps.log.info(`Task ${id}: saved ${paths.video} (${bytes} bytes)`);
    const done = await writeRecord(ctx, id);
    if (done) await announce(ctx, done);
  } catch (error) {
    if (ctx.signal.aborted) {
      await ctx.store.patch(id, (t) => t.save?.state !== 'saved' && (t.save = { state: 'waiting', attempts: t.save?.attempts ?? 0 }));
      return;
    }
    const linkRefused = error instanceof WanApiError && error.code === 'VideoUrlExpired';
    // The link's answer decides, read with the clock: refused near or past its documented end, it has
    // expired; refused long before, it is more likely a glitch of the storage host, tried again.
    const expired = linkRefused && (at === undefined || ctx.now() >= at - EXPIRY_MARGIN_MS);
    const retryable = isTransient(error) || (linkRefused && !expired);
    const message = linkRefused && !expired ? `the storage host refused the result link (HTTP ${error.httpStatus}) long before it expires` : explainError(error).message;
    const s = await ctx.store.patch(id, (t) => {
      if (t.save?.state === 'saved') return;
      const attempts = t.save?.attempts ?? 1;
      const again = !expired && attempts < SAVE_ATTEMPTS && retryable;
      t.save = {
        state: expired ? 'expired' : again ? 'waiting' : 'failed',
        attempts,
        error: expired ? 'the result link expired (24 hours) before the video was saved' : message,
        notBefore: again ? ctx.now() + Math.min(120_000, 2000 * 2 ** (attempts - 1)) : undefined,
      };
    });
    ctx.deps.log.warn(`Task ${id}: saving the video failed (${message})`);
    if (s && s.save?.state !== 'waiting' && s.save?.state !== 'saved') await announce(ctx, s);
  }
}

/** The base of the task's video file name (the same on every attempt, so its partial download is found again). */
function videoBase(r: TaskRecord): string {
  return videoBaseName({
    date: parseServiceTime(r.endTime) ?? new Date(r.requestedAt),
    prompt: r.request.prompt,
    fallback: basename(r.request.firstFrame ?? r.request.firstClip ?? ''),
    taskId: r.taskId ?? r.id,
  });
}

/**
 * A succeeded task whose video is already in its folder (known by task ID from the record beside it, or by
 * its name) is listed as saved without a download or an announcement. True when it was.
 */
export async function takeSavedVideo(ctx: JobContext, id: string, resolveFolder = true): Promise<boolean> {
  const r = ctx.store.get(id);
  if (!r?.taskId || r.state !== 'succeeded' || r.save?.state === 'saved') return false;
  const folder = r.outputFolder ?? (resolveFolder ? await ctx.deps.outputFolderFor?.(r) : undefined);
  if (!folder) return false;
  const found = await ctx.savedVideos.videoOf(folder, r.taskId, videoBase(r));
  if (!found) return false;
  const taken = await ctx.store.patch(id, (t) => {
    if (t.save?.state === 'saved') return;
    t.outputFolder = folder;
    t.save = { state: 'saved', file: found.file, bytes: found.bytes, attempts: t.save?.attempts ?? 0, ...(found.hasRecord ? {} : { pendingRecord: { attempts: 0 } }) };
    t.announced = true;
  });
  ctx.deps.log.info(`Task ${id}: its video was already saved as ${found.file}; not downloaded again`);
  if (taken?.save?.pendingRecord) await writeRecord(ctx, id);
  return true;
}

/**
 * Writes the record beside a saved video. A failure (a full disk) leaves the video saved and tries only
 * the record again later. Returns the task as it now stands.
 */
export async function writeRecord(ctx: JobContext, id: string): Promise<TaskRecord | undefined> {
  const r = ctx.store.get(id);
  if (!r?.save?.file || r.save.state !== 'saved' || !r.save.pendingRecord) return r;
  const { file, bytes = 0 } = r.save;
  try {
    await (ctx.deps.writeRecord ?? writeSidecar)(sidecarPathOf(file), sidecarFor(r, file, bytes));
    ctx.deps.log.info(`Task ${id}: wrote its record ${sidecarPathOf(file)}`);
    return await ctx.store.patch(id, (t) => {
      if (t.save) t.save = { ...t.save, pendingRecord: undefined, notBefore: undefined };
    });
  } catch (error) {
    const { message } = explainError(error);
    ctx.deps.log.warn(`Task ${id}: the video is saved, but its record ${sidecarPathOf(file)} could not be written (${message}); trying again`);
    return await ctx.store.patch(id, (t) => {
      if (!t.save?.pendingRecord) return;
      const attempts = t.save.pendingRecord.attempts + 1;
      t.save.pendingRecord = { attempts, error: message };
      t.save.notBefore = ctx.now() + Math.min(300_000, 5000 * 2 ** (attempts - 1));
    });
  }
}

/**
 * Temporary files of downloads killed with their window: the ones a task can resume are kept, the others
 * (untouched for a while, so no other run is writing them) removed.
 */
export async function removeStaleParts(ctx: JobContext, ): Promise<void> {
  const resumable = new Set<string>();
  const folders = new Set<string>();
  for (const r of ctx.store.all()) {
    if (!r.outputFolder) continue;
    folders.add(r.outputFolder);
    if (r.state === 'succeeded' && r.taskId && r.save?.state !== 'saved' && r.save?.state !== 'expired') resumable.add(join(r.outputFolder, `.${videoBase(r)}.part`));
  }
  for (const folder of folders) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const path = join(folder, name);
      if (!name.startsWith('.') || !name.endsWith('.part') || resumable.has(path)) continue;
      const age = await stat(path).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age < STALE_PART_MS) continue;
      await rm(path, { force: true });
      ctx.deps.log.info(`Removed a partial download left by a closed window: ${path}`);
    }
  }
}

export function warnIfExpiring(ctx: JobContext, r: TaskRecord, now: number): void {
  const at = expiresAt(r);
  // Only a save that stopped needs the user: one still being tried reports its own outcome.
  if (r.save?.state !== 'failed' || at === undefined || at - now > WARN_BEFORE_EXPIRY_MS) return;
  if (r.expiryWarned) return;
  void ctx.store
    .patch(r.id, (t) => (t.expiryWarned = true))
    .then((t) => t && ctx.events.expiring?.(t))
    .catch((error: unknown) => ctx.deps.log.warn(`Task ${r.id}: the expiry warning failed: ${String(error)}`));
}
