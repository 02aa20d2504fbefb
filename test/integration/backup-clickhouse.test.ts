/**
 * `type: clickhouse` against real clickhouse-server 18.16 (the old server Debian ships; the pinned
 * 24.8 speaks the same HTTP interface and Native format): backup, restore, drill, and its bounds.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { restoreOrder, type TableInfo } from '../../src/backup/sources/clickhouse.ts';
import { clickhouseStream, clickhouseText, unescapeTsv } from '../../src/backup/sources/clickhouse-http.ts';
import {
  describeWithServices,
  type RunningClickHouse,
  type RunningS3,
  startClickHouse,
  startS3,
} from '../harness/services.ts';
import { kindling, readObject, s3Client } from './backup-helpers.ts';

const q = (ch: RunningClickHouse, sql: string) => clickhouseText(new URL(ch.url), sql);

async function seed(ch: RunningClickHouse): Promise<void> {
  for (const sql of [
    'CREATE DATABASE analytics',
    `CREATE TABLE analytics.events (day Date, at DateTime, user String, text String, tags Array(UInt32), score Nullable(Float64), code FixedString(3)) ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (day, user)`,
    `INSERT INTO analytics.events SELECT toDate('2026-01-01') + (number % 90), toDateTime('2026-01-01 00:00:00') + number * 37, concat('user-', toString(number % 97)), if(number % 10 = 0, '配置 🐉 ünïcödé', concat('row ', toString(number))), range(number % 5), if(number % 3 = 0, NULL, number / 7), 'abc' FROM system.numbers LIMIT 20000`,
    `CREATE TABLE analytics.raw (id UInt64, payload String) ENGINE = TinyLog`,
    `INSERT INTO analytics.raw VALUES (1, 'bytes\\0with\\tcontrol\\n'), (2, '')`,
    `CREATE TABLE analytics.empty (id UInt64) ENGINE = MergeTree() ORDER BY id`,
    `CREATE VIEW analytics.daily AS SELECT day, count() AS n FROM analytics.events GROUP BY day`,
  ])
    await q(ch, sql);
}

/** Every row of a table in a fixed order, hashed: equal hashes = equal contents. */
const contents = async (ch: RunningClickHouse, table: string, order: string) =>
  createHash('sha256')
    .update(await q(ch, `SELECT * FROM analytics.${table} ORDER BY ${order} FORMAT TabSeparated`))
    .digest('hex');

describeWithServices(
  'clickhouse backups (real clickhouse-server 18.16, s3rver)',
  ['clickhouse', 's3'],
  () => {
    let src: RunningClickHouse;
    let s3: RunningS3;
    const extra: RunningClickHouse[] = [];
    beforeAll(async () => {
      [src, s3] = await Promise.all([startClickHouse(), startS3({ buckets: ['backups'] })]);
      await seed(src);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([src?.stop(), s3?.stop(), ...extra.map((e) => e.stop())]);
    });
    const scratch = async () => {
      const ch = await startClickHouse();
      extra.push(ch);
      return ch;
    };
    const store = () => ['--store', 's3://backups/ch', '--s3-endpoint', s3.endpoint];
    let id = '';

    it('backs up the schema and every table with rows in the Native format', async () => {
      const r = await kindling(
        ['backup', '--target', 'local', '--endpoint', `clickhouse=${src.url}`, ...store(), '--json'],
        {},
        s3,
      );
      expect(r.code, r.stderr).toBe(0);
      id = JSON.parse(r.stdout).id;
      const manifest = JSON.parse(
        (await readObject(s3Client(s3.endpoint), 'backups', `ch/${id}/manifest.json`)).toString(),
      );
      const rec = manifest.components.find((c: { component: string }) => c.component === 'clickhouse');
      expect(rec.type).toBe('clickhouse');
      expect(rec.serverVersion).toMatch(/^18\.16\./);
      expect(rec.artifacts.map((a: { name: string }) => a.name).sort()).toEqual([
        'analytics.events.native.zst',
        'analytics.raw.native.zst',
        'schema.json.zst',
      ]);
      const tables = rec.meta.tables as TableInfo[];
      expect(tables.map((t) => `${t.table}:${t.engine}:${t.rows}`)).toEqual([
        'daily:View:0',
        'empty:MergeTree:0',
        'events:MergeTree:20000',
        'raw:TinyLog:2',
      ]);
    }, 90_000);

    it('restores into a fresh server: every row identical (4-byte UTF-8, arrays, NULLs, control bytes), the view works, the empty table exists', async () => {
      const target = await scratch();
      const r = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--target',
          'local',
          '--endpoint',
          `clickhouse=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(await contents(target, 'events', 'day, user, at')).toBe(
        await contents(src, 'events', 'day, user, at'),
      );
      expect(await contents(target, 'raw', 'id')).toBe(await contents(src, 'raw', 'id'));
      expect(unescapeTsv((await q(target, 'SELECT payload FROM analytics.raw WHERE id = 1')).trimEnd())).toBe(
        'bytes\0with\tcontrol\n',
      );
      expect(await q(target, 'SELECT sum(n) FROM analytics.daily')).toBe('20000\n');
      expect(
        await q(target, "SELECT count() FROM system.tables WHERE database = 'analytics' AND name = 'empty'"),
      ).toBe('1\n');
      // again: the tables exist now, so it is refused without --clean …
      const again = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--target',
          'local',
          '--endpoint',
          `clickhouse=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/table analytics\.events already exists; restore with --clean/);
      // … and replaces them with it (no duplicated rows)
      const clean = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--clean',
          '--target',
          'local',
          '--endpoint',
          `clickhouse=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(clean.code, clean.stderr).toBe(0);
      expect(await q(target, 'SELECT count() FROM analytics.events')).toBe('20000\n');
    }, 120_000);

    it('the drill compares row counts and a checksum per table; a changed row shows', async () => {
      const drill = async (s: RunningClickHouse) =>
        kindling(
          [
            'backups',
            'verify',
            id,
            '--drill',
            '--target',
            'local',
            '--endpoint',
            `clickhouse=${src.url}`,
            '--scratch',
            `clickhouse=${s.url}`,
            ...store(),
          ],
          {},
          s3,
        );
      const ok = await drill(await scratch());
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      // 4 tables exist + 3 data tables × (rows, checksum)
      expect(ok.stdout).toMatch(/✓ clickhouse: 10 fact\(s\) compared, 0 difference\(s\)/);
      await q(src, `INSERT INTO analytics.raw VALUES (3, 'new')`);
      const changed = await drill(await scratch());
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/analytics\.raw rows/);
      expect(changed.stdout).toMatch(/analytics\.raw checksum/);
    }, 180_000);

    it('a ClickHouse that accepts the connection and never answers fails within the bound, naming the server (real silent TCP listener)', async () => {
      const sockets: Socket[] = [];
      const server = createServer((c) => {
        sockets.push(c);
        c.on('data', () => {});
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const t0 = Date.now();
      const err = await clickhouseText(new URL(`http://default:pw-4711@127.0.0.1:${port}`), 'SELECT 1', {
        timeoutMs: 300,
      }).catch((e: Error) => e);
      for (const c of sockets) c.destroy();
      server.close();
      expect(String(err)).toMatch(
        new RegExp(`ClickHouse http://127\\.0\\.0\\.1:${port}: no answer within 0\\.3s`),
      );
      expect(String(err)).not.toContain('pw-4711');
      expect(Date.now() - t0).toBeLessThan(3000);
    });

    it('the bound is on silence, not on length: a slow query fails under a short bound and passes under a longer one (real server)', async () => {
      const base = new URL(src.url);
      const slow = 'SELECT sleep(0.6) FORMAT TabSeparated';
      const err = await clickhouseText(base, slow, { timeoutMs: 200 }).catch((e: Error) => e);
      expect(String(err)).toMatch(/no answer within 0\.2s/);
      expect(await clickhouseText(base, slow, { timeoutMs: 3000 })).toBe('0\n');
    });

    it('an answer that stalls after its headers errors the stream within the bound (stand-in HTTP server that stops mid-body)', async () => {
      const server = createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(1000, 1)); // then nothing, connection kept open
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const t0 = Date.now();
      const stream = await clickhouseStream(new URL(`http://127.0.0.1:${port}`), 'SELECT 1', {
        timeoutMs: 300,
      });
      let got = 0;
      const err = await (async () => {
        for await (const c of stream) got += (c as Buffer).length;
      })().catch((e: Error) => e);
      server.closeAllConnections();
      server.close();
      expect(got).toBe(1000);
      expect(String(err)).toMatch(/no answer within 0\.3s/);
      expect(Date.now() - t0).toBeLessThan(3000);
    });

    it('restoreOrder puts views after the tables they read', () => {
      const t = (table: string, engine: string) => ({ database: 'a', table, engine, create: '', rows: 0 });
      expect(
        restoreOrder([
          t('v', 'View'),
          t('x', 'MergeTree'),
          t('m', 'MaterializedView'),
          t('y', 'TinyLog'),
        ]).map((x) => x.table),
      ).toEqual(['x', 'y', 'v', 'm']);
    });
  },
);
