// `wan-video list --spend DIR`: the billed seconds of the videos saved in a folder, from the records beside
// them, counted as the extension counts its tasks (src/tasks/spend.ts: usage first, rehearsals never).
import { TaskRecordSchema, type TaskRecord } from '../tasks/record';
import { recordOfSidecar, SavedVideoIndex } from '../tasks/sidecar';
import { spendOf, type Period } from '../tasks/spend';

export interface FolderSpend {
  /** Billed seconds per period, every paid endpoint together. */
  seconds: Record<Period, number>;
  /** Saved videos with a record in the folder, rehearsals included. */
  records: number;
}

export async function folderSpend(dir: string, now: number): Promise<FolderSpend> {
  const saved = await new SavedVideoIndex().all(dir);
  const records = saved.flatMap(({ sidecar, video }): TaskRecord[] => {
    const parsed = TaskRecordSchema.safeParse(recordOfSidecar(sidecar, video, sidecar.task_id, now));
    return parsed.success ? [parsed.data] : []; // a record the extension would not list either
  });
  const { total } = spendOf(records, now);
  return { seconds: { today: total.today.seconds, month: total.month.seconds, all: total.all.seconds }, records: saved.length };
}

/** The extension's words for the same figures (the Tasks view's description). */
export function spendLine(spend: FolderSpend, dir: string): string {
  const { today, month, all } = spend.seconds;
  return `Spent today ${today} s · this month ${month} s · all time ${all} s (from the ${spend.records} video records in ${dir}; rehearsals not counted)`;
}
