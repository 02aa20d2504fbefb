import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backupIdTime, isBackupId, newBackupId } from '../../src/backup/id.ts';
import { type BackupFacts, isoWeek, planPrune } from '../../src/backup/retention.ts';
import { parseRetention } from '../../src/backup/setup.ts';
import { bgsaveState } from '../../src/backup/sources/redis.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { UsageError } from '../../src/util/errors.ts';

const H = 3_600_000;
const D = 24 * H;
const now = new Date('2026-03-15T12:00:00Z');
const at = (ms: number, complete = true, lastWrite?: number): BackupFacts => ({
  id: newBackupId(new Date(now.getTime() - ms), Buffer.from([1, 2, 3, 4, 5, ms % 256])),
  time: new Date(now.getTime() - ms),
  complete,
  lastWrite: new Date(now.getTime() - (lastWrite ?? ms)),
});

describe('planPrune', () => {
  it('keep-last keeps the N newest complete backups and removes the others', () => {
    const b = [at(1 * H), at(2 * H), at(3 * H), at(4 * H)];
    const plan = planPrune(b, { keepLast: 2, graceMs: D }, now);
    expect(plan.keep.map((k) => k.id)).toEqual([b[0]!.id, b[1]!.id]);
    expect(plan.remove.map((r) => r.id)).toEqual([b[2]!.id, b[3]!.id]);
  });

  it('keep-daily keeps the newest backup of each of the last N days that have one', () => {
    const b = [at(1 * H), at(5 * H), at(D + H), at(D + 2 * H), at(3 * D), at(9 * D)];
    const plan = planPrune(b, { keepDaily: 3, graceMs: D }, now);
    expect(plan.keep.map((k) => k.id).sort()).toEqual([b[0]!.id, b[2]!.id, b[4]!.id].sort());
  });

  it('keep-weekly and keep-monthly use ISO weeks and calendar months', () => {
    expect(isoWeek(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    const b = [at(0), at(2 * D), at(8 * D), at(40 * D), at(75 * D)];
    const weekly = planPrune(b, { keepWeekly: 2, graceMs: D }, now);
    expect(weekly.keep.map((k) => k.id).sort()).toEqual([b[0]!.id, b[2]!.id].sort());
    const monthly = planPrune(b, { keepMonthly: 3, graceMs: D }, now);
    expect(monthly.keep.map((k) => k.id).sort()).toEqual([b[0]!.id, b[3]!.id, b[4]!.id].sort());
  });

  it('leaves a backup without manifest inside the grace period alone and removes older orphans', () => {
    const running = at(2 * D, false, 10 * 60_000); // started long ago, still writing
    const orphan = at(3 * D, false);
    const plan = planPrune([at(H), running, orphan], { keepLast: 1, graceMs: 6 * H }, now);
    expect(plan.inProgress.map((p) => p.id)).toEqual([running.id]);
    expect(plan.remove.map((r) => r.id)).toEqual([orphan.id]);
    expect(plan.remove[0]!.reason).toMatch(/orphaned: no manifest/);
  });

  it('property: never removes the newest complete backup nor an in-progress one; every backup lands in exactly one list', () => {
    const facts = fc.array(
      fc.record({
        age: fc.integer({ min: 0, max: 400 * D }),
        complete: fc.boolean(),
        idle: fc.integer({ min: 0, max: 10 * D }),
      }),
      { maxLength: 40 },
    );
    const policy = fc.record({
      keepLast: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      keepDaily: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
      keepWeekly: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
      keepMonthly: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
      graceMs: fc.integer({ min: 0, max: 2 * D }),
    });
    fc.assert(
      fc.property(facts, policy, (fs, p) => {
        const backups = fs.map((f, i) => ({ ...at(f.age, f.complete, f.idle), id: `b${i}` }));
        const plan = planPrune(backups, p, now);
        const newest = backups
          .filter((b) => b.complete)
          // ids break ties between equal times, as in planPrune (real ids never collide)
          .sort((a, b) => b.time.getTime() - a.time.getTime() || (b.id < a.id ? -1 : 1))[0];
        const removed = new Set(plan.remove.map((r) => r.id));
        if (newest) expect(removed.has(newest.id)).toBe(false);
        for (const b of backups)
          if (!b.complete && now.getTime() - b.lastWrite.getTime() < p.graceMs)
            expect(removed.has(b.id)).toBe(false);
        const all = [
          ...plan.keep.map((k) => k.id),
          ...plan.remove.map((r) => r.id),
          ...plan.inProgress.map((x) => x.id),
        ];
        expect(all.sort()).toEqual(backups.map((b) => b.id).sort());
      }),
    );
  });
});

describe('backup ids', () => {
  it('sort by time, carry their start time, and differ even within the same second', () => {
    const t = new Date('2026-01-14T03:15:02.123Z');
    const a = newBackupId(t);
    const b = newBackupId(t);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^20260114T031502Z-[0-9a-f]{12}$/);
    expect(isBackupId(a)).toBe(true);
    expect(backupIdTime(a)?.toISOString()).toBe('2026-01-14T03:15:02.000Z');
    expect(isBackupId('manifest.json')).toBe(false);
  });
});

describe('parseStoreUrl and parseRetention', () => {
  it('parses s3://BUCKET/PREFIX and rejects everything else with a usage error naming the flag', () => {
    expect(parseStoreUrl('s3://backups/nightly/')).toEqual({ bucket: 'backups', prefix: 'nightly' });
    expect(parseStoreUrl('s3://backups')).toEqual({ bucket: 'backups', prefix: '' });
    for (const bad of ['http://x/y', 's3://', 's3://B/x', 's3://ok/a//b', 's3://ok/../x'])
      expect(() => parseStoreUrl(bad)).toThrow(UsageError);
    expect(() => parseStoreUrl('nope', 'input "store"')).toThrow(/input "store"/);
  });

  it('parses the action’s retention text', () => {
    expect(parseRetention('keep-last=7,keep-daily=7,keep-weekly=4,keep-monthly=6,grace=6h')).toEqual({
      keepLast: 7,
      keepDaily: 7,
      keepWeekly: 4,
      keepMonthly: 6,
      graceMs: 6 * H,
    });
    expect(() => parseRetention('keep-yearly=3', 'input "retention"')).toThrow(
      /input "retention": "keep-yearly=3"/,
    );
  });
});

describe('bgsaveState (Redis INFO persistence)', () => {
  const info = (o: Record<string, string>) => new Map(Object.entries(o));
  it('is done only when a new save finished ok', () => {
    const before = info({
      rdb_bgsave_in_progress: '0',
      rdb_saves: '4',
      rdb_last_save_time: '100',
      rdb_last_bgsave_status: 'ok',
    });
    expect(bgsaveState(before, info({ ...Object.fromEntries(before), rdb_bgsave_in_progress: '1' }))).toBe(
      'running',
    );
    expect(bgsaveState(before, before)).toBe('running');
    expect(bgsaveState(before, info({ ...Object.fromEntries(before), rdb_saves: '5' }))).toBe('done');
    expect(
      bgsaveState(
        before,
        info({ ...Object.fromEntries(before), rdb_saves: '5', rdb_last_bgsave_status: 'err' }),
      ),
    ).toBe('failed');
  });
});
