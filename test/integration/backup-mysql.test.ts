/**
 * `type: mysql` against real MariaDB 10.11 servers (the MySQL stand-in Debian ships; its
 * `mysqldump`/`mysql` clients are MariaDB's): backup, restore, drill, 4-byte UTF-8, routines and
 * triggers, and the in-pod command of target kube run against a real server.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mysqlCommand } from '../../src/backup/sources/mysql.ts';
import type { TargetAccess } from '../../src/backup/types.ts';
import { loadStack } from '../../src/catalog/load.ts';
import {
  describeWithServices,
  mariadb,
  type RunningMariaDB,
  type RunningS3,
  startMariaDB,
  startS3,
} from '../harness/services.ts';
import { kindling, listKeys, readObject, s3Client } from './backup-helpers.ts';

const EMOJI = '配置 🐉🚀 ünïcödé \u{1F9EA}';

function seed(db: RunningMariaDB): void {
  mariadb(
    db,
    `CREATE DATABASE nacos_config CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
     CREATE DATABASE audit CHARACTER SET utf8mb4;
     CREATE TABLE nacos_config.config_info (id BIGINT AUTO_INCREMENT PRIMARY KEY, data_id VARCHAR(255) NOT NULL, content LONGTEXT, raw VARBINARY(64), updated INT DEFAULT 0) ENGINE=InnoDB;
     CREATE TABLE nacos_config.history (id BIGINT AUTO_INCREMENT PRIMARY KEY, data_id VARCHAR(255), at DATETIME(3)) ENGINE=InnoDB;
     CREATE TABLE audit.events (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB;
     INSERT INTO nacos_config.config_info (data_id, content, raw) VALUES ('app.yaml', '${EMOJI}', UNHEX('00FF10800A0D27')), ('db.properties', REPEAT('x=1\\n', 5000), NULL);
     INSERT INTO audit.events SELECT seq, CONCAT('event ', seq) FROM seq_1_to_300;
     CREATE FUNCTION nacos_config.double_it(n INT) RETURNS INT DETERMINISTIC RETURN n * 2;
     CREATE TRIGGER nacos_config.config_history AFTER UPDATE ON nacos_config.config_info FOR EACH ROW INSERT INTO nacos_config.history (data_id, at) VALUES (NEW.data_id, NOW(3));
     CREATE EVENT nacos_config.nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM nacos_config.history WHERE at < NOW() - INTERVAL 90 DAY;`,
  );
}

describeWithServices(
  'mysql backups (real MariaDB 10.11 as the MySQL server, s3rver)',
  ['mariadb', 's3'],
  () => {
    let src: RunningMariaDB;
    let s3: RunningS3;
    const extra: RunningMariaDB[] = [];
    beforeAll(async () => {
      [src, s3] = await Promise.all([startMariaDB(), startS3({ buckets: ['backups'] })]);
      seed(src);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([src?.stop(), s3?.stop(), ...extra.map((e) => e.stop())]);
    });
    const scratch = async () => {
      const db = await startMariaDB();
      extra.push(db);
      return db;
    };
    const store = () => ['--store', 's3://backups/mysql', '--s3-endpoint', s3.endpoint];
    let id = '';

    it('backs up every user database in one consistent dump; the password is in no argv, log or manifest', async () => {
      const r = await kindling(
        ['backup', '--target', 'local', '--endpoint', `nacos-mysql=${src.url}`, ...store(), '--json'],
        {},
        s3,
      );
      expect(r.code, r.stderr).toBe(0);
      const outcome = JSON.parse(r.stdout);
      id = outcome.id;
      expect(outcome.components.map((c: { component: string }) => c.component)).toEqual(['nacos-mysql']);
      const manifest = JSON.parse(
        (await readObject(s3Client(s3.endpoint), 'backups', `mysql/${id}/manifest.json`)).toString(),
      );
      const rec = manifest.components[0];
      expect(rec.type).toBe('mysql');
      expect(rec.meta.databases).toEqual(['audit', 'nacos_config']);
      expect(rec.serverVersion).toMatch(/MariaDB/);
      expect(rec.artifacts[0].command).toMatch(
        /^mysqldump .*--single-transaction --routines --events --triggers --hex-blob --no-tablespaces --databases audit nacos_config$/,
      );
      expect(rec.artifacts[0].command).toContain('--default-character-set=utf8mb4');
      expect(JSON.stringify(manifest) + r.stderr + r.stdout).not.toContain(src.password);
      expect(await listKeys(s3Client(s3.endpoint), 'backups', `mysql/${id}/`)).toContain(
        `mysql/${id}/nacos-mysql/dump.sql.zst`,
      );
    }, 90_000);

    it('restores into a fresh server: 4-byte UTF-8, binary bytes, the function, the trigger and the event survive', async () => {
      const target = await scratch();
      const r = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--target',
          'local',
          '--endpoint',
          `nacos-mysql=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(r.code, r.stderr).toBe(0);
      const q = (db: RunningMariaDB, sql: string) => mariadb(db, sql, 'nacos_config');
      const hexOf = "SELECT HEX(content), HEX(raw) FROM config_info WHERE data_id = 'app.yaml'";
      expect(q(target, hexOf)).toBe(q(src, hexOf));
      expect(q(target, "SELECT content FROM config_info WHERE data_id = 'app.yaml'").trim()).toBe(EMOJI);
      expect(q(target, 'SELECT double_it(21)').trim()).toBe('42');
      expect(
        q(
          target,
          'SELECT COUNT(*) FROM information_schema.events WHERE event_schema = "nacos_config"',
        ).trim(),
      ).toBe('1');
      q(target, "UPDATE config_info SET updated = 1 WHERE data_id = 'app.yaml'");
      expect(q(target, 'SELECT COUNT(*) FROM history').trim()).toBe('1'); // the trigger fired
      expect(mariadb(target, 'SELECT COUNT(*) FROM events', 'audit').trim()).toBe('300');

      // a second restore over the now non-empty server is refused, then --clean replaces it
      const again = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--target',
          'local',
          '--endpoint',
          `nacos-mysql=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(
        /database "nacos_config" already exists and is not empty; restore with --clean/,
      );
      // one consistent dump of all databases: no renaming one of them
      const renamed = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--database',
          'nacos_config=other',
          '--target',
          'local',
          '--endpoint',
          `nacos-mysql=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(renamed.code).toBe(1);
      expect(renamed.stderr).toMatch(/--database cannot rename nacos_config/);
      const clean = await kindling(
        [
          'restore',
          '--backup',
          id,
          '--clean',
          '--target',
          'local',
          '--endpoint',
          `nacos-mysql=${target.url}`,
          ...store(),
        ],
        {},
        s3,
      );
      expect(clean.code, clean.stderr).toBe(0);
      expect(q(target, 'SELECT COUNT(*) FROM history').trim()).toBe('0');
    }, 120_000);

    it('the drill restores into a scratch server and compares row counts, CHECKSUM TABLE and stored code per database; a change shows', async () => {
      const drill = async (scratchDb: RunningMariaDB) =>
        kindling(
          [
            'backups',
            'verify',
            id,
            '--drill',
            '--target',
            'local',
            '--endpoint',
            `nacos-mysql=${src.url}`,
            '--scratch',
            `nacos-mysql=${scratchDb.url}`,
            ...store(),
          ],
          {},
          s3,
        );
      const ok = await drill(await scratch());
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      // 2 databases × (tables, routines, triggers, events) + 3 tables × (rows, checksum)
      expect(ok.stdout).toMatch(/✓ nacos-mysql: 14 fact\(s\) compared, 0 difference\(s\)/);

      mariadb(
        src,
        "UPDATE config_info SET content = 'changed' WHERE data_id = 'db.properties'",
        'nacos_config',
      );
      const changed = await drill(await scratch());
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/nacos_config: config_info checksum/);
    }, 180_000);

    it('target kube: the in-pod command takes the password from the container environment (run here against a real server, the pod environment stood in by env vars)', () => {
      const stack = loadStack('manifests/stack.yaml');
      const component = stack.components['nacos-mysql']!;
      const spec = component.backups.find((b) => b.type === 'mysql')!;
      const cmd = mysqlCommand(
        {
          target: {
            kind: 'kube',
            runner: { kind: 'kube', run: async () => ({ exitCode: 0, stderr: '' }) },
            namespace: 'x',
            endpoints: new Map(),
          } as unknown as TargetAccess,
          component,
          spec,
        },
        'mysql',
        ['-N', '-B', '-e', 'SELECT @@port, CURRENT_USER()'],
      );
      expect(cmd.pod).toBe('nacos-mysql-0');
      expect(cmd.container).toBe('mysql');
      expect(cmd.argv.join(' ')).not.toMatch(/-p\S/); // no password argument
      // MYSQL_HOST / MYSQL_TCP_PORT point the client at our server, as the pod's socket would
      const out = execFileSync(cmd.argv[0]!, cmd.argv.slice(1), {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          MYSQL_ROOT_PASSWORD: src.password,
          MYSQL_HOST: '127.0.0.1',
          MYSQL_TCP_PORT: String(src.port),
        },
      });
      expect(out.trim()).toMatch(new RegExp(`^${src.port}\troot@(localhost|127\\.0\\.0\\.1)$`));
    });

    it('a MySQL that accepts the connection and never answers fails the backup within the client connect timeout (real silent TCP listener)', async () => {
      const sockets: Socket[] = [];
      const server = createServer((c) => {
        sockets.push(c);
        c.on('data', () => {});
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      try {
        const t0 = Date.now();
        const r = await kindling(
          [
            'backup',
            '--target',
            'local',
            '--endpoint',
            `nacos-mysql=mysql://root:pw-silent@127.0.0.1:${port}/`,
            '--store',
            's3://backups/silent',
            '--s3-endpoint',
            s3.endpoint,
          ],
          {},
          s3,
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/reading initial communication packet/);
        expect(r.stderr).not.toContain('pw-silent');
        expect(Date.now() - t0).toBeLessThan(25_000);
      } finally {
        for (const c of sockets) c.destroy();
        server.close();
      }
    }, 60_000);

    it('a wrong password fails the backup (exit 1, no manifest) without printing it', async () => {
      const bad = src.url.replace(encodeURIComponent(src.password), 'wrong-pw-9876');
      const r = await kindling(
        [
          'backup',
          '--target',
          'local',
          '--endpoint',
          `nacos-mysql=${bad}`,
          '--store',
          's3://backups/bad',
          '--s3-endpoint',
          s3.endpoint,
        ],
        {},
        s3,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Access denied for user 'root'/);
      expect(r.stderr + r.stdout).not.toContain('wrong-pw-9876');
      expect(
        (await listKeys(s3Client(s3.endpoint), 'backups', 'bad/')).filter((k) => k.endsWith('manifest.json')),
      ).toEqual([]);
    }, 60_000);
  },
);
