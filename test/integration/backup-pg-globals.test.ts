import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keepOwnPassword } from '../../src/backup/sources/pg-globals.ts';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningS3,
  startPostgres,
  startS3,
} from '../harness/services.ts';
import { kindling } from './backup-helpers.ts';

/** A TCP login as `user` (the harness trusts only its local socket; TCP needs the password). */
function canLogin(pg: RunningPostgres, user: string, password: string): boolean {
  try {
    execFileSync('psql', ['-X', '-A', '-t', '-c', 'SELECT 1'], {
      env: {
        ...process.env,
        PGHOST: '127.0.0.1',
        PGPORT: String(pg.port),
        PGUSER: user,
        PGPASSWORD: password,
        PGDATABASE: 'postgres',
        PGCONNECT_TIMEOUT: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return true;
  } catch {
    return false;
  }
}

describeWithServices(
  'PostgreSQL globals restored into another server (real PostgreSQL 15, s3rver): the connecting role keeps the target’s password',
  ['postgres', 's3'],
  () => {
    let source: RunningPostgres;
    let target: RunningPostgres;
    let s3: RunningS3;
    const store = () => ['--store', 's3://backups/globals', '--s3-endpoint', s3.endpoint];

    beforeAll(async () => {
      [source, target, s3] = await Promise.all([
        startPostgres({ password: 'source-pw' }),
        startPostgres({ password: 'target-pw' }),
        startS3({ buckets: ['backups'] }),
      ]);
      psql(source, `CREATE ROLE app LOGIN PASSWORD 'app-pw'`);
      psql(source, 'CREATE DATABASE appdb OWNER app');
      psql(source, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)', 'appdb');
    }, 120_000);
    afterAll(async () => {
      await Promise.all([source?.stop(), target?.stop(), s3?.stop()]);
    });

    it('pg_dumpall writes the connecting role as ALTER ROLE … PASSWORD on one line, which keepOwnPassword strips for that role only', () => {
      const sql = execFileSync(
        'pg_dumpall',
        ['--globals-only', '-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres'],
        {
          env: { ...process.env, PGPASSWORD: 'source-pw' },
          encoding: 'utf8',
        },
      );
      expect(sql).toMatch(/^ALTER ROLE postgres WITH .* PASSWORD 'SCRAM-SHA-256\$[^']+';$/m);
      const { sql: out, kept } = keepOwnPassword(sql, 'postgres');
      expect(kept).toBe(true);
      expect(out).toMatch(/^ALTER ROLE postgres WITH SUPERUSER[^\n]*;$/m);
      expect(out).not.toMatch(/^ALTER ROLE postgres WITH .*PASSWORD/m);
      expect(out).toMatch(/^ALTER ROLE app WITH .* PASSWORD 'SCRAM-SHA-256\$[^']+';$/m);
      expect(keepOwnPassword(sql, 'nobody').kept).toBe(false);
    });

    it('a restore into a server with its own password: that password still works afterwards, the other roles log in with the source’s', async () => {
      const b = await kindling(
        [
          'backup',
          '--target',
          'local',
          '--endpoint',
          `postgres=${source.urlFor('postgres')}`,
          ...store(),
          '--json',
        ],
        {},
        s3,
      );
      expect(b.code, b.stderr).toBe(0);
      const r = await kindling(
        [
          'restore',
          '--backup',
          'latest',
          '--target',
          'local',
          '--endpoint',
          `postgres=${target.urlFor('postgres')}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(`${r.stdout}\n${r.stderr}`).toContain('role "postgres" keeps this server\'s password');
      // before the fix the globals set postgres' password to source-pw: the target's Secret was locked out
      expect(canLogin(target, 'postgres', 'target-pw')).toBe(true);
      expect(canLogin(target, 'postgres', 'source-pw')).toBe(false);
      expect(canLogin(target, 'app', 'app-pw')).toBe(true);
      expect(psql(target, 'SELECT count(*) FROM t', 'appdb').trim()).toBe('2');
    }, 120_000);
  },
);
