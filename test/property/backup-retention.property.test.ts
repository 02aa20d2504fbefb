import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BackupFacts,
  hasKeepRule,
  isoWeek,
  planPrune,
  type RetentionPolicy,
} from '../../src/backup/retention.ts';
import { parseRetention } from '../../src/backup/setup.ts';
import { UsageError } from '../../src/util/errors.ts';

const H = 3_600_000;
const D = 24 * H;
const now = new Date('2026-03-15T12:00:00Z');
const COMPONENTS = ['postgres', 'redis', 'minio', 'etcd'] as const;

/** Random backups of mixed components, complete and incomplete; ages cluster so days and weeks repeat. */
const backupsArb = fc
  .array(
    fc.record({
      age: fc.oneof(fc.integer({ min: 0, max: 400 * D }), fc.integer({ min: 0, max: 3 * D })),
      complete: fc.boolean(),
      components: fc.subarray([...COMPONENTS]),
      idle: fc.integer({ min: 0, max: 10 * D }),
    }),
    { maxLength: 40 },
  )
  .map((fs) =>
    fs.map(
      (f, i): BackupFacts => ({
        id: `b${String(i).padStart(2, '0')}`,
        time: new Date(now.getTime() - f.age),
        complete: f.complete,
        components: f.complete ? f.components : [],
        lastWrite: new Date(now.getTime() - Math.min(f.idle, f.age)),
      }),
    ),
  );

const rule = (max: number) => fc.option(fc.integer({ min: 1, max }), { nil: undefined });
/** Any policy, including ones without a keep rule (the parser refuses those; planPrune must still be safe). */
const policyArb = fc.record({
  keepLast: rule(5),
  keepDaily: rule(7),
  keepWeekly: rule(4),
  keepMonthly: rule(12),
  graceMs: fc.integer({ min: 0, max: 2 * D }),
});

// ids break ties between equal times (real ids start with the time and never collide)
const newestFirst = (a: BackupFacts, b: BackupFacts) =>
  b.time.getTime() - a.time.getTime() || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);

/** The retention rules, written out independently: which complete backups must be kept, per component. */
function mustKeep(backups: readonly BackupFacts[], p: RetentionPolicy): Set<string> {
  const keep = new Set<string>();
  const groups = new Map<string, BackupFacts[]>();
  for (const b of backups.filter((x) => x.complete))
    for (const c of b.components.length ? b.components : ['(none)'])
      groups.set(c, [...(groups.get(c) ?? []), b]);
  for (const list of groups.values()) {
    list.sort(newestFirst);
    keep.add(list[0]!.id);
    for (const b of list.slice(0, p.keepLast ?? 0)) keep.add(b.id);
    const periods: [number | undefined, (d: Date) => string][] = [
      [p.keepDaily, (d) => d.toISOString().slice(0, 10)],
      [p.keepWeekly, isoWeek],
      [p.keepMonthly, (d) => d.toISOString().slice(0, 7)],
    ];
    for (const [n, bucketOf] of periods) {
      if (!n) continue;
      const newestOfBucket = new Map<string, BackupFacts>();
      for (const b of list)
        if (!newestOfBucket.has(bucketOf(b.time))) newestOfBucket.set(bucketOf(b.time), b);
      for (const b of [...newestOfBucket.values()].sort(newestFirst).slice(0, n)) keep.add(b.id);
    }
  }
  return keep;
}

describe('planPrune (property, fast-check)', () => {
  it('for every component present in any complete backup, its newest complete backup is kept — whatever the policy', () => {
    fc.assert(
      fc.property(backupsArb, policyArb, (backups, p) => {
        const removed = new Set(planPrune(backups, p, now).remove.map((r) => r.id));
        for (const c of COMPONENTS) {
          const newest = backups.filter((b) => b.complete && b.components.includes(c)).sort(newestFirst)[0];
          if (newest) expect(removed.has(newest.id), `newest ${c} backup ${newest.id}`).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps exactly what the keep rules keep per component, removes the other complete backups, and the orphans idle past the grace period', () => {
    fc.assert(
      fc.property(backupsArb, policyArb, (backups, p) => {
        const plan = planPrune(backups, p, now);
        const expected = mustKeep(backups, p);
        expect(new Set(plan.keep.map((k) => k.id))).toEqual(expected);
        for (const b of backups) {
          const idle = now.getTime() - b.lastWrite.getTime();
          const where = plan.keep.some((k) => k.id === b.id)
            ? 'keep'
            : plan.remove.some((r) => r.id === b.id)
              ? 'remove'
              : plan.inProgress.some((x) => x.id === b.id)
                ? 'inProgress'
                : 'nowhere';
          if (b.complete) expect(where).toBe(expected.has(b.id) ? 'keep' : 'remove');
          else expect(where).toBe(idle < p.graceMs ? 'inProgress' : 'remove');
        }
        // each backup in exactly one list
        const all = [...plan.keep, ...plan.remove, ...plan.inProgress].map((x) => x.id).sort();
        expect(all).toEqual(backups.map((b) => b.id).sort());
      }),
      { numRuns: 500 },
    );
  });

  it('every kept backup says why, naming the component the rule kept it for', () => {
    fc.assert(
      fc.property(backupsArb, policyArb, (backups, p) => {
        for (const k of planPrune(backups, p, now).keep) {
          const b = backups.find((x) => x.id === k.id)!;
          expect(k.reasons.length).toBeGreaterThan(0);
          for (const r of k.reasons) {
            const of = / of (.+)$/.exec(r)?.[1];
            if (b.components.length === 0) expect(of, r).toBe('(no components)');
            else expect(b.components, r).toContain(of);
          }
        }
      }),
    );
  });
});

describe('parseRetention (property, fast-check)', () => {
  const part = fc.oneof(
    fc.constantFrom('keep-last', 'keep-daily', 'keep-weekly', 'keep-monthly', 'grace', 'keep-yearly', ''),
    fc.string({ maxLength: 4 }),
  );
  const value = fc.oneof(fc.nat({ max: 12 }).map(String), fc.constantFrom('1h', '30m', '', '-1', 'x'));
  const text = fc
    .array(fc.tuple(part, value), { maxLength: 5 })
    .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join(','));

  it('either refuses the text with a usage error naming where it came from, or returns a policy with a positive keep rule and no zero rule', () => {
    fc.assert(
      fc.property(text, (t) => {
        let policy: RetentionPolicy | undefined;
        try {
          policy = parseRetention(t, 'input "retention"');
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).toContain('input "retention"');
          return;
        }
        expect(hasKeepRule(policy)).toBe(true);
        for (const n of [policy.keepLast, policy.keepDaily, policy.keepWeekly, policy.keepMonthly])
          if (n !== undefined) expect(n).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 1000 },
    );
  });
});
