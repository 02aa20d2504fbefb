import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupIdTime, isBackupId, newBackupId } from '../../src/backup/id.ts';
import { type BackupFacts, isoWeek, planPrune } from '../../src/backup/retention.ts';
import { parseRetention, prune } from '../../src/backup/setup.ts';
import { bgsaveState } from '../../src/backup/sources/redis.ts';
import type { S3Store } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { UsageError } from '../../src/util/errors.ts';
import { runCli } from '../harness/cli.ts';

const H = 3_600_000;
const D = 24 * H;
const now = new Date('2026-03-15T12:00:00Z');
const at = (
  ms: number,
  complete = true,
  lastWrite?: number,
  components: string[] = complete ? ['postgres'] : [],
): BackupFacts => ({
  id: newBackupId(new Date(now.getTime() - ms), Buffer.from([1, 2, 3, 4, 5, ms % 256])),
  time: new Date(now.getTime() - ms),
  complete,
  components,
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
});

describe('retention safety: the inputs reported in issue #15', () => {
  it('a PostgreSQL-only backup does not make the last Redis backup deletable (keep-last=1)', () => {
    const both = at(2 * H, true, undefined, ['postgres', 'redis']);
    const pgOnly = at(1 * H, true, undefined, ['postgres']);
    const plan = planPrune([pgOnly, both], { keepLast: 1, graceMs: D }, now);
    expect(plan.remove).toEqual([]);
    expect(plan.keep.find((k) => k.id === both.id)?.reasons).toContain('newest complete backup of redis');
  });

  it('keep rules count per component: keep-last=2 keeps two Redis backups among many PostgreSQL-only ones', () => {
    const redis = [at(30 * H, true, undefined, ['redis']), at(20 * H, true, undefined, ['redis'])];
    const old = at(40 * H, true, undefined, ['redis']);
    const pg = [1, 2, 3, 4, 5].map((h) => at(h * H, true, undefined, ['postgres']));
    const plan = planPrune([...pg, ...redis, old], { keepLast: 2, graceMs: D }, now);
    const kept = new Set(plan.keep.map((k) => k.id));
    for (const b of [pg[0]!, pg[1]!, ...redis]) expect(kept.has(b.id)).toBe(true);
    expect(plan.remove.map((r) => r.id).sort()).toEqual([pg[2]!.id, pg[3]!.id, pg[4]!.id, old.id].sort());
  });

  it.each([
    ['grace=1h', /no keep rule/],
    ['', /no keep rule/],
    ['keep-last=0', /keep-last=0 keeps nothing/],
    ['keep-last=0,keep-daily=7', /keep-last=0 keeps nothing/],
    ['keep-monthly=0,grace=2h', /keep-monthly=0 keeps nothing/],
  ])('parseRetention refuses "%s" with a usage error naming where it came from', (text, why) => {
    for (const where of ['--retention', 'input "retention"', 'backups prune']) {
      let err: unknown;
      try {
        parseRetention(text, where);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(where);
      expect((err as Error).message).toMatch(why);
    }
  });

  it.each([
    [['--retention', 'grace=1h'], /--retention: "grace=1h": no keep rule/],
    [['--retention', 'keep-last=0'], /--retention: "keep-last=0": keep-last=0 keeps nothing/],
  ])('kindling backup %j exits 2 before touching the store or the target', async (flags, message) => {
    const r = await runCli([
      'backup',
      ...flags,
      '--target',
      'local',
      '--endpoint',
      'redis=redis://127.0.0.1:1',
      '--store',
      's3://backups/x',
      // nothing listens here: a store or target contacted would fail differently (exit 1)
      '--s3-endpoint',
      'http://127.0.0.1:1',
    ]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });

  it.each([
    [['--keep-last', '0'], /keep-last=0 keeps nothing/],
    [['--grace', '1h'], /no keep rule: give at least one of keep-last=N/],
    [['--keep-daily', '0', '--keep-weekly', '0'], /keep-daily=0, keep-weekly=0 keeps nothing/],
  ])('kindling backups prune %j exits 2', async (flags, message) => {
    const r = await runCli([
      'backups',
      'prune',
      ...flags,
      '--store',
      's3://backups/x',
      '--s3-endpoint',
      'http://127.0.0.1:1',
    ]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('the backup action refuses retention "grace=1h" naming the input, before any backup (src/actions/backup/index.ts run as GitHub runs it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-action-'));
    for (const f of ['output', 'summary']) writeFileSync(join(dir, f), '');
    const r = spawnSync(process.execPath, ['src/actions/backup/index.ts'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_OUTPUT: join(dir, 'output'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        INPUT_TARGET: 'local',
        INPUT_ENDPOINTS: 'redis=redis://127.0.0.1:1',
        INPUT_STORE: 's3://backups/x',
        'INPUT_S3-ENDPOINT': 'http://127.0.0.1:1',
        'INPUT_ACCESS-KEY-ID': 'a',
        'INPUT_SECRET-ACCESS-KEY': 'b',
        INPUT_RETENTION: 'grace=1h',
      },
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/::error::input "retention": "grace=1h": no keep rule/);
    expect(r.stdout).not.toMatch(/backing up/);
  });

  it('prune() itself refuses a policy without a keep rule (the deleting path, whatever the caller)', async () => {
    const store = { list: () => Promise.reject(new Error('must not be called')) } as unknown as S3Store;
    await expect(
      prune(store, { bucket: 'b', prefix: '' }, { graceMs: H }, { dryRun: false }),
    ).rejects.toThrow(UsageError);
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
