/**
 * Target kube for the mysql and clickhouse backup types, through the stand-in Cluster of
 * test/standins/cluster-local.ts (exec = a local process with the pod's environment; port-forward
 * = a real TCP forwarder), against REAL MariaDB 10.11 and clickhouse-server 18.16: the in-pod
 * `sh -c 'export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"; exec mysqldump …'` and ClickHouse's HTTP
 * interface over a port-forward, backed up, then restored into a second "cluster" of scratch servers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { loadManifest } from '../../src/backup/inventory.ts';
import { runRestore } from '../../src/backup/restore.ts';
import { clickhouseText } from '../../src/backup/sources/clickhouse-http.ts';
import { loadStack } from '../../src/catalog/load.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import {
  describeWithServices,
  mariadb,
  type RunningClickHouse,
  type RunningMariaDB,
  type RunningS3,
  startClickHouse,
  startMariaDB,
  startS3,
  tempDir,
} from '../harness/services.ts';
import { LocalCluster } from '../standins/cluster-local.ts';

describeWithServices(
  'mysql and clickhouse backups on target kube through a stand-in Cluster (real MariaDB 10.11, clickhouse-server 18.16, s3rver)',
  ['mariadb', 'clickhouse', 's3'],
  () => {
    let mysql: RunningMariaDB;
    let mysqlScratch: RunningMariaDB;
    let ch: RunningClickHouse;
    let chScratch: RunningClickHouse;
    let s3: RunningS3;
    const clusters: LocalCluster[] = [];
    const stack = loadStack();
    const location = parseStoreUrl('s3://backups/kube-sql');

    const clientHome = (db: RunningMariaDB) => {
      const home = tempDir('mysql-pod-home');
      writeFileSync(join(home, '.my.cnf'), `[client]\nsocket=${db.socket}\n`);
      return home;
    };

    /** A "cluster" whose nacos-mysql-0 pod and clickhouse Service are these servers. */
    const clusterFor = (db: RunningMariaDB, c: RunningClickHouse) => {
      const cluster = new LocalCluster({
        namespace: stack.namespace,
        pods: {
          // the container's own env (base/nacos.yaml); the clients find the server's socket in an
          // option file's [client] section, as the image's /etc/my.cnf names its socket
          // (docker-library/mysql 8.0/Dockerfile.oracle: `[client] socket=/var/run/mysqld/mysqld.sock`)
          'nacos-mysql-0': { env: { MYSQL_ROOT_PASSWORD: db.password, HOME: clientHome(db) } },
        },
        services: { 'clickhouse:8123': c.port },
      });
      clusters.push(cluster);
      return cluster;
    };

    beforeAll(async () => {
      [mysql, mysqlScratch, ch, chScratch, s3] = await Promise.all([
        startMariaDB(),
        startMariaDB(),
        startClickHouse(),
        startClickHouse(),
        startS3({ buckets: ['backups'] }),
      ]);
      mariadb(
        mysql,
        `CREATE DATABASE nacos_config CHARACTER SET utf8mb4;
         CREATE TABLE nacos_config.config_info (id INT PRIMARY KEY, content TEXT);
         INSERT INTO nacos_config.config_info VALUES (1, 'kube 🐉'), (2, 'two');`,
      );
      for (const sql of [
        'CREATE DATABASE analytics',
        'CREATE TABLE analytics.hits (day Date, n UInt32) ENGINE = MergeTree() ORDER BY day',
        "INSERT INTO analytics.hits SELECT toDate('2026-01-01') + number, number FROM system.numbers LIMIT 500",
      ])
        await clickhouseText(new URL(ch.url), sql);
    }, 120_000);
    afterAll(async () => {
      for (const c of clusters) await c.closeAll();
      await Promise.all([mysql?.stop(), mysqlScratch?.stop(), ch?.stop(), chScratch?.stop(), s3?.stop()]);
    });

    it('backs up nacos-mysql by exec in its pod (no password in the command) and clickhouse over a port-forward, then restores both into another cluster', async () => {
      const cluster = clusterFor(mysql, ch);
      const store = new S3Store(
        s3Settings({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      );
      const outcome = await runBackup({
        selected: selectBackups(stack, ['nacos-mysql', 'clickhouse'], []),
        target: kubeTarget(cluster, stack.namespace),
        store,
        location,
        compression: 'zstd',
      });
      expect(outcome.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
      const dumps = cluster.execs.filter((e) => e.includes('--single-transaction'));
      expect(dumps).toHaveLength(1);
      expect(dumps[0]).toMatch(
        /^nacos-mysql-0: sh -c export MYSQL_PWD="\$MYSQL_ROOT_PASSWORD"; exec "\$@" mysqldump/,
      );
      expect(cluster.execs.join('\n')).not.toContain(mysql.password);

      const manifest = await loadManifest(store, location, outcome.id);
      const restored = await runRestore({
        stack,
        manifest,
        components: [],
        target: kubeTarget(clusterFor(mysqlScratch, chScratch), stack.namespace),
        store,
        location,
        options: { clean: false, rename: new Map(), noGlobals: false },
      });
      expect(restored.components.filter((c) => !c.ok).map((c) => c.error)).toEqual([]);
      expect(mariadb(mysqlScratch, 'SELECT content FROM config_info ORDER BY id', 'nacos_config')).toBe(
        'kube 🐉\ntwo\n',
      );
      expect(await clickhouseText(new URL(chScratch.url), 'SELECT count(), sum(n) FROM analytics.hits')).toBe(
        '500\t124750\n',
      );
    }, 180_000);
  },
);
