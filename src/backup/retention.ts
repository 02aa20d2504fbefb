/**
 * Retention, computed from manifests only (pure). Counts only complete backups; never deletes the
 * newest complete backup; never touches a backup that may still be running (no manifest, written
 * to within the grace period); removes orphans (no manifest, idle longer than the grace period).
 */
export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** A prefix without manifest idle for longer than this is an orphan. */
  graceMs: number;
}

export interface BackupFacts {
  id: string;
  /** When the backup started (manifest, else the id's timestamp). */
  time: Date;
  complete: boolean;
  /** Last write under its prefix. */
  lastWrite: Date;
}

export interface PrunePlan {
  keep: { id: string; reasons: string[] }[];
  remove: { id: string; reason: string }[];
  /** No manifest but recently written: possibly still running, left alone. */
  inProgress: { id: string }[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const month = (d: Date) => d.toISOString().slice(0, 7);
/** ISO 8601 week, e.g. `2026-W03`. */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export function hasKeepRule(p: RetentionPolicy): boolean {
  return [p.keepLast, p.keepDaily, p.keepWeekly, p.keepMonthly].some((n) => n !== undefined);
}

export function planPrune(backups: readonly BackupFacts[], policy: RetentionPolicy, now: Date): PrunePlan {
  const complete = backups
    .filter((b) => b.complete)
    .sort((a, b) => b.time.getTime() - a.time.getTime() || (b.id < a.id ? -1 : 1));
  const reasons = new Map<string, string[]>();
  const keep = (id: string, why: string) => reasons.set(id, [...(reasons.get(id) ?? []), why]);

  if (complete[0]) keep(complete[0].id, 'newest complete backup');
  for (const [i, b] of complete.slice(0, policy.keepLast ?? 0).entries()) keep(b.id, `last ${i + 1}`);
  const periodic: [number | undefined, string, (d: Date) => string][] = [
    [policy.keepDaily, 'daily', day],
    [policy.keepWeekly, 'weekly', isoWeek],
    [policy.keepMonthly, 'monthly', month],
  ];
  for (const [n, label, bucketOf] of periodic) {
    if (!n) continue;
    let kept = 0;
    let last: string | undefined;
    for (const b of complete) {
      if (kept >= n) break;
      const bucket = bucketOf(b.time);
      if (bucket === last) continue;
      last = bucket;
      kept++;
      keep(b.id, `${label} ${bucket}`);
    }
  }

  const plan: PrunePlan = { keep: [], remove: [], inProgress: [] };
  for (const b of complete) {
    const why = reasons.get(b.id);
    if (why) plan.keep.push({ id: b.id, reasons: why });
    else plan.remove.push({ id: b.id, reason: 'complete, not kept by any rule' });
  }
  for (const b of backups.filter((x) => !x.complete)) {
    const idle = now.getTime() - b.lastWrite.getTime();
    if (idle < policy.graceMs) plan.inProgress.push({ id: b.id });
    else
      plan.remove.push({ id: b.id, reason: `orphaned: no manifest, idle for ${Math.round(idle / 60_000)}m` });
  }
  return plan;
}
