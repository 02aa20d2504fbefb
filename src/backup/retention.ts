/**
 * Retention, computed from manifests only (pure). Counts only complete backups; never touches a
 * backup that may still be running (no manifest, written to within the grace period); removes
 * orphans (no manifest, idle longer than the grace period).
 *
 * Keep rules apply per component, like restic's `forget` applies its policy per snapshot group
 * (restic/restic `cmd/restic/cmd_forget.go`, `--group-by`): a backup is kept when the rules keep
 * it for any component it holds. So a run of PostgreSQL alone never makes the last Redis backup
 * deletable, and the newest complete backup of every component is always kept (restic likewise
 * refuses to "delete last snapshot of snapshot group").
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
  /** Components the backup holds (from its manifest; empty for an incomplete backup). */
  components: readonly string[];
  /** Last write under its prefix. */
  lastWrite: Date;
}

export interface PrunePlan {
  keep: { id: string; reasons: string[] }[];
  remove: { id: string; reason: string }[];
  /** No manifest but recently written: possibly still running, left alone. */
  inProgress: { id: string }[];
}

export const KEEP_RULES = ['keep-last', 'keep-daily', 'keep-weekly', 'keep-monthly'] as const;

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

/** Does the policy keep anything by rule? (At least one keep rule of 1 or more.) */
export function hasKeepRule(p: RetentionPolicy): boolean {
  return [p.keepLast, p.keepDaily, p.keepWeekly, p.keepMonthly].some((n) => n !== undefined && n >= 1);
}

/**
 * Why a policy must be refused, or undefined when it is usable. A policy without a positive keep
 * rule is refused, as restic refuses a `forget` with no policy ("no policy was specified, no
 * snapshots will be removed", restic/restic `cmd/restic/cmd_forget_integration_test.go`); a rule
 * of 0 keeps nothing and is refused rather than read as "unset".
 */
export function policyProblem(p: RetentionPolicy): string | undefined {
  const zero = (
    [
      ['keep-last', p.keepLast],
      ['keep-daily', p.keepDaily],
      ['keep-weekly', p.keepWeekly],
      ['keep-monthly', p.keepMonthly],
    ] as const
  ).filter(([, n]) => n !== undefined && !(Number.isInteger(n) && n >= 1));
  if (zero.length)
    return `${zero.map(([k, n]) => `${k}=${n}`).join(', ')} keeps nothing: a keep rule needs N of 1 or more (leave it out instead)`;
  if (!hasKeepRule(p))
    return `no keep rule: give at least one of ${KEEP_RULES.map((k) => `${k}=N`).join(', ')} (a grace period alone would keep nothing)`;
  return undefined;
}

const newestFirst = (a: BackupFacts, b: BackupFacts) =>
  b.time.getTime() - a.time.getTime() || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);

export function planPrune(backups: readonly BackupFacts[], policy: RetentionPolicy, now: Date): PrunePlan {
  const complete = backups.filter((b) => b.complete).sort(newestFirst);
  const reasons = new Map<string, string[]>();
  const keep = (id: string, why: string) => reasons.set(id, [...(reasons.get(id) ?? []), why]);

  // one group per component; a backup holding nothing is its own group, so it is never lost silently
  const groups = new Map<string, BackupFacts[]>();
  for (const b of complete)
    for (const c of b.components.length ? new Set(b.components) : ['(no components)'])
      groups.set(c, [...(groups.get(c) ?? []), b]);
  const periodic: [number | undefined, string, (d: Date) => string][] = [
    [policy.keepDaily, 'daily', day],
    [policy.keepWeekly, 'weekly', isoWeek],
    [policy.keepMonthly, 'monthly', month],
  ];
  for (const [component, list] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const of = ` of ${component}`;
    keep(list[0]!.id, `newest complete backup${of}`);
    for (const [i, b] of list.slice(0, Math.max(0, policy.keepLast ?? 0)).entries())
      keep(b.id, `last ${i + 1}${of}`);
    for (const [n, label, bucketOf] of periodic) {
      if (!n || n < 1) continue;
      let kept = 0;
      let last: string | undefined;
      for (const b of list) {
        if (kept >= n) break;
        const bucket = bucketOf(b.time);
        if (bucket === last) continue;
        last = bucket;
        kept++;
        keep(b.id, `${label} ${bucket}${of}`);
      }
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
