// The dump-restore upgrade's backup → restore → verify → switch logic on real servers: a real
// PostgreSQL 15 as blue, a SECOND real PostgreSQL 15 as green (the major we have here; the seed's
// postgres:16 green is what only a real cluster runs), s3rver as the store. The switch is an
// injected edge: the test sees whether and when it is called.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FillOptions, fillAndSwitch } from '../../src/app/upgrade-fill.ts';
import { openStore } from '../../src/backup/setup.ts';
import { loadStack } from '../../src/catalog/load.ts';
import type { Stack } from '../../src/catalog/types.ts';
import { localTarget } from '../../src/targets/local.ts';
import { greenComponent } from '../../src/upgrade/blue-green.ts';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
} from '../harness/services.ts';
import { seedPostgres } from './backup-helpers.ts';

describeWithServices(
  'dump-restore upgrade: blue PostgreSQL 15 → green PostgreSQL 15, backup, restore, compare, switch',
  ['postgres', 's3'],
  () => {
    let blue: RunningPostgres;
    let s3: RunningS3;
    let stack: Stack;
    const greens: RunningPostgres[] = [];
    beforeAll(async () => {
      [blue, s3] = await Promise.all([
        startPostgres({ password: 'blue-pw' }),
        startS3({ buckets: ['backups'] }),
      ]);
      seedPostgres(blue);
      stack = loadStack('manifests/stack.yaml');
    }, 120_000);
    afterAll(async () => {
      await Promise.all([blue?.stop(), s3?.stop(), ...greens.map((g) => g.stop())]);
    });

    async function options(prefix: string): Promise<{ o: FillOptions; green: RunningPostgres }> {
      // green reads the same Secret as blue (postgres-secret), and the restored roles carry blue's
      // password hashes anyway: a green with another superuser password is locked out after the restore
      const green = await startPostgres({ password: 'blue-pw' });
      greens.push(green);
      const pg = stack.components.postgres!;
      const at = (url: string) => new Map([['postgres.sql', new URL(url)]]);
      const { store, location } = openStore({
        store: `s3://backups/${prefix}`,
        s3Endpoint: s3.endpoint,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      });
      return {
        green,
        o: {
          stack,
          blue: pg,
          green: greenComponent(pg, new Set(['postgres']), new Set(['postgres'])),
          source: localTarget(at(blue.url), stack.namespace),
          dest: localTarget(at(green.url), stack.namespace),
          store,
          location,
          compression: 'zstd',
          timeoutMs: 10_000,
        },
      };
    }

    it('a clean fill: every table and row count, the roles and the seed databases alike, then the switch; the write window measured', async () => {
      const { o, green } = await options('clean');
      let switchedAt = 0;
      const r = await fillAndSwitch(o, async () => {
        switchedAt = Date.now();
      });
      expect(r.fill.problems).toEqual([]);
      expect(r.switched).toBe(true);
      expect(switchedAt).toBeGreaterThan(0);
      // 3 seed databases: a table count each + a row count per table (users, messages, kb.documents)
      expect(r.fill.compared).toBeGreaterThanOrEqual(6);
      expect(r.fill.differences).toEqual([]);
      expect(r.fill.compare.map((c) => [c.check, c.ok])).toEqual([
        ['roles', true],
        ['databases', true],
      ]);
      expect(r.fill.compare[0]!.green).toContain('app_owner');
      const greenChecks = r.fill.greenVerify!.results.filter((x) => x.status === 'pass').map((x) => x.check);
      expect(greenChecks).toEqual(expect.arrayContaining(['version', 'seed-databases']));
      expect(psql(green, 'SELECT count(*) FROM messages', 'conversation').trim()).toBe('2001');
      // the window spans the backup and the restore, and closes at the switch
      expect(r.windowMs).toBeGreaterThanOrEqual(r.fill.backupMs + r.fill.restoreMs);
      expect(switchedAt).toBeLessThanOrEqual(r.fill.windowOpenedAt + r.windowMs);
      expect(r.window).toMatch(/^write window \d+\.\ds \(.+ → .+\): writes to blue in it are not in green$/);
      console.log(
        `dump-restore fill: backup ${r.fill.backupMs} ms, restore ${r.fill.restoreMs} ms, ${r.fill.compared} entries compared; ${r.window}`,
      );
    }, 120_000);

    it('green with a role blue does not have: the compare check differs, no switch', async () => {
      const { o, green } = await options('extra-role');
      psql(green, 'CREATE ROLE only_on_green LOGIN');
      let called = false;
      const r = await fillAndSwitch(o, async () => {
        called = true;
      });
      expect(called).toBe(false);
      expect(r.switched).toBe(false);
      expect(r.fill.compare.find((c) => c.check === 'roles')!.ok).toBe(false);
      expect(r.fill.problems.join('\n')).toMatch(/postgres\/roles: blue answers .*, green .*only_on_green/);
    }, 120_000);

    it('green already holding a seed database: the restore refuses, nothing switched', async () => {
      const { o, green } = await options('not-empty');
      psql(green, 'CREATE DATABASE identity');
      psql(green, 'CREATE TABLE stale (id int)', 'identity');
      let called = false;
      const r = await fillAndSwitch(o, async () => {
        called = true;
      });
      expect(called).toBe(false);
      expect(r.switched).toBe(false);
      expect(r.fill.problems.join('\n')).toMatch(/identity/);
    }, 120_000);

    it('the switch edge failing is said, and the outcome is not switched', async () => {
      const { o } = await options('switch-fails');
      const r = await fillAndSwitch(o, async () => {
        throw new Error('HTTP 409 Conflict from PATCH services/postgres');
      });
      expect(r.fill.ok).toBe(true);
      expect(r.switched).toBe(false);
      expect(r.switchError).toBe('HTTP 409 Conflict from PATCH services/postgres');
    }, 120_000);
  },
);
