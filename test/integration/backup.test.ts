import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningRedis,
  type RunningS3,
  startPostgres,
  startRedis,
  startS3,
} from '../harness/services.ts';
import {
  kindling,
  listKeys,
  plainDump,
  readObject,
  redisSnapshot,
  s3Client,
  seedPostgres,
  seedRedis,
  sha256,
} from './backup-helpers.ts';

const DATABASES = ['identity', 'conversation', 'knowledge'];

describeWithServices(
  'backup → restore round trip (real PostgreSQL 15, Redis 7, s3rver)',
  ['postgres', 'redis', 's3'],
  () => {
    let pg: RunningPostgres;
    let redis: RunningRedis;
    let s3: RunningS3;
    const fresh: { stop(): Promise<void> }[] = [];
    let backupId = '';
    let store = '';
    /** One `--endpoint` (or `--scratch`) per component, and this suite's store. */
    const on = (flag: '--endpoint' | '--scratch', urls: Record<string, string>) =>
      Object.entries(urls).flatMap(([name, url]) => [flag, `${name}=${url}`]);
    const inStore = () => ['--store', store, '--s3-endpoint', s3.endpoint];

    beforeAll(async () => {
      [pg, redis, s3] = await Promise.all([
        startPostgres({ password: 'pg-secret-pw' }),
        startRedis({ password: 'redis-secret-pw' }),
        startS3({ buckets: ['backups'] }),
      ]);
      store = 's3://backups/nightly';
      seedPostgres(pg);
      await seedRedis(redis.url);
    }, 120_000);
    afterAll(async () => {
      await Promise.all([pg?.stop(), redis?.stop(), s3?.stop(), ...fresh.map((f) => f.stop())]);
    });

    it('backs up every database and Redis; every stored object reads back with the manifest’s sha256 and size', async () => {
      const r = await kindling(
        [
          'backup',
          '--target',
          'local',
          ...on('--endpoint', { postgres: pg.url, redis: redis.url }),
          ...inStore(),
          '--json',
        ],
        {},
        s3,
      );
      expect(r.stderr).not.toContain('pg-secret-pw');
      expect(r.stderr).not.toContain('redis-secret-pw');
      expect(r.code, r.stderr).toBe(0);
      const outcome = JSON.parse(r.stdout);
      backupId = outcome.id;
      expect(backupId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
      const client = s3Client(s3.endpoint);
      const manifest = JSON.parse(
        (await readObject(client, 'backups', `nightly/${backupId}/manifest.json`)).toString(),
      );
      expect(manifest.kindlingVersion).toMatch(/^\d+\.\d+\.\d+/);
      const pgRecord = manifest.components.find((c: { component: string }) => c.component === 'postgres');
      expect(pgRecord.serverVersion).toMatch(/^15/);
      expect(pgRecord.toolVersion).toMatch(/pg_dump \(PostgreSQL\)/);
      const names = pgRecord.artifacts.map((a: { name: string }) => a.name).sort();
      for (const db of DATABASES) expect(names).toContain(`${db}.pgdump.zst`);
      expect(names).toContain('globals.sql.zst');
      const redisRecord = manifest.components.find((c: { component: string }) => c.component === 'redis');
      expect(redisRecord.serverVersion).toMatch(/^7\./);
      const all = [...pgRecord.artifacts, ...redisRecord.artifacts];
      for (const a of all) {
        const body = await readObject(client, 'backups', a.key);
        expect(a.key.startsWith(`nightly/${backupId}/`)).toBe(true);
        expect({ key: a.key, bytes: body.length, sha256: sha256(body) }).toEqual({
          key: a.key,
          bytes: a.bytes,
          sha256: a.sha256,
        });
        expect(a.exitCode).toBe(0);
        expect(a.compression).toBe('zstd');
        expect(a.command).not.toContain('secret-pw');
      }
      // layout: PREFIX/<id>/<component>/<artifact>, the manifest, and no leftover in-progress marker
      const keys = await listKeys(client, 'backups', `nightly/${backupId}/`);
      expect(keys.sort()).toEqual([...all.map((a) => a.key), `nightly/${backupId}/manifest.json`].sort());
    }, 120_000);

    it('restores into fresh instances: pg_dump of every database and every Redis key, type, value and TTL are identical', async () => {
      expect(backupId).not.toBe('');
      const [pg2, redis2] = await Promise.all([startPostgres(), startRedis()]);
      fresh.push(pg2, redis2);
      const r = await kindling(
        [
          'restore',
          '--backup',
          'latest',
          '--target',
          'local',
          ...on('--endpoint', { postgres: pg2.url, redis: redis2.url }),
          ...inStore(),
        ],
        {},
        s3,
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain(`restore of ${backupId} done`);
      for (const db of DATABASES) expect(plainDump(pg2, db)).toBe(plainDump(pg, db));
      expect(psql(pg2, "SELECT rolname FROM pg_roles WHERE rolname = 'app_owner'")).toContain('app_owner');
      const [before, after] = await Promise.all([redisSnapshot(redis.url), redisSnapshot(redis2.url)]);
      expect(Object.keys(before).length).toBeGreaterThan(500);
      // keys, types and values exact; TTLs (in 10 s buckets) equal but for one bucket of rounding,
      // since the two instances are read a few milliseconds apart
      const ttl = (v: string) => Number(/ ttl=(-?\d+)$/.exec(v)![1]);
      const value = (v: string) => v.replace(/ ttl=-?\d+$/, '');
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const [k, v] of Object.entries(before)) {
        expect(value(after[k]!), k).toBe(value(v));
        if (ttl(v) < 0) expect(ttl(after[k]!), k).toBe(ttl(v));
        else expect(Math.abs(ttl(after[k]!) - ttl(v)), k).toBeLessThanOrEqual(1);
      }
    }, 180_000);

    /** `kindling restore` of this suite's backup, PostgreSQL only, into the server at `url`. */
    const restorePostgres = (url: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      kindling(
        [
          'restore',
          '--backup',
          backupId,
          '--target',
          'local',
          '--components',
          'postgres',
          ...extra,
          ...on('--endpoint', { postgres: url }),
          ...inStore(),
        ],
        env,
        s3,
      );

    it('restores through Node’s own zstd decompressor when no zstd tool is on PATH (src/backup/zstd-cli.ts): the same databases', async () => {
      // a PATH with the PostgreSQL tools and nothing else: zstdCliAvailable finds no zstd there
      const bin = mkdtempSync(join(tmpdir(), 'kindling-no-zstd-'));
      for (const tool of ['psql', 'pg_restore', 'pg_dump', 'pg_dumpall'])
        symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bin, tool));
      const pg4 = await startPostgres();
      fresh.push(pg4);
      const r = await restorePostgres(pg4.url, [], { PATH: bin });
      rmSync(bin, { recursive: true, force: true });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      for (const db of DATABASES) expect(plainDump(pg4, db)).toBe(plainDump(pg, db));
    }, 120_000);

    it('refuses to restore over a non-empty target without --clean, and changes nothing', async () => {
      const r = await restorePostgres(pg.url);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refusing to restore; the target was not touched/);
      expect(r.stderr).toMatch(/database "identity" already exists and is not empty/);
    }, 60_000);

    it('--clean restores over the existing databases (no CREATE DATABASE for one that exists) and keeps their rows', async () => {
      const rows = (db: string) => psql(pg, 'SELECT count(*) FROM pg_class', db);
      const before = psql(pg, 'SELECT datname FROM pg_database ORDER BY 1');
      const identityRows = rows('identity');
      const r = await restorePostgres(pg.url, ['--clean', '--no-globals']);
      expect(r.code, r.stderr).toBe(0);
      expect(psql(pg, 'SELECT datname FROM pg_database ORDER BY 1')).toBe(before);
      expect(rows('identity')).toBe(identityRows);
    }, 60_000);

    it('backups verify re-hashes every artifact; --drill restores into scratch instances and compares row counts and keys', async () => {
      const v = await kindling(
        ['backups', 'verify', backupId, '--store', store, '--s3-endpoint', s3.endpoint],
        {},
        s3,
      );
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toMatch(/6\/6 artifact\(s\) match the manifest/);
      const [pg3, redis3] = await Promise.all([startPostgres(), startRedis()]);
      fresh.push(pg3, redis3);
      const d = await kindling(
        [
          'backups',
          'verify',
          'latest',
          '--drill',
          '--target',
          'local',
          ...on('--endpoint', { postgres: pg.url, redis: redis.url }),
          ...on('--scratch', { postgres: pg3.url, redis: redis3.url }),
          ...inStore(),
        ],
        {},
        s3,
      );
      expect(d.code, d.stderr + d.stdout).toBe(0);
      expect(d.stdout).toMatch(/restore drill passed: time to restore \d/);
      expect(d.stdout).toMatch(/postgres: \d+ fact\(s\) compared, 0 difference/);
      expect(d.stdout).toMatch(/redis: \d+ fact\(s\) compared, 0 difference/);
      // the drill notices a difference: change the source, drill again
      psql(pg, 'DELETE FROM users WHERE id = 1', 'identity');
      const [pg4, redis4] = await Promise.all([startPostgres(), startRedis()]);
      fresh.push(pg4, redis4);
      const d2 = await kindling(
        [
          'backups',
          'verify',
          'latest',
          '--drill',
          '--target',
          'local',
          '--components',
          'postgres',
          ...on('--endpoint', { postgres: pg.url }),
          ...on('--scratch', { postgres: pg4.url }),
          ...inStore(),
        ],
        {},
        s3,
      );
      expect(d2.code).toBe(1);
      expect(d2.stdout).toMatch(/identity: public\.users rows: source 2, restored 3/);
    }, 180_000);
  },
);
