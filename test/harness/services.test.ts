import { afterAll, expect, it } from 'vitest';
import {
  describeWithServices,
  psql,
  type Running,
  startAlertmanager,
  startClickHouse,
  startEtcd,
  startKafkaMock,
  startPostgres,
  startPrometheus,
  startRedis,
  startS3,
} from './services.ts';

// The harness itself: every real server starts, answers, and stops.
describeWithServices(
  'test harness: real servers',
  ['postgres', 'redis', 'etcd', 'prometheus', 'alertmanager', 'clickhouse', 'kafka-mock', 's3'],
  () => {
    const running: Running[] = [];
    afterAll(async () => {
      await Promise.all(running.map((r) => r.stop()));
    });

    it('starts PostgreSQL with a password', async () => {
      const pg = await startPostgres({ password: 'pw' });
      running.push(pg);
      expect(psql(pg, 'SELECT 1')).toBe('1\n');
      expect(pg.url).toContain(':pw@');
    });
    it('starts Redis', async () => {
      const r = await startRedis();
      running.push(r);
      expect(r.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    });
    it('starts etcd, Prometheus, Alertmanager, ClickHouse', async () => {
      const all = await Promise.all([startEtcd(), startPrometheus(), startAlertmanager(), startClickHouse()]);
      running.push(...all);
      const [etcd, prom, am, ch] = all;
      expect(await (await fetch(`${etcd.url}/health`)).json()).toMatchObject({ health: 'true' });
      expect((await fetch(`${prom.url}/-/ready`)).status).toBe(200);
      expect((await fetch(`${am.url}/-/ready`)).status).toBe(200);
      expect(await (await fetch(`${ch.url}/ping`)).text()).toBe('Ok.\n');
    });
    it('starts a Kafka mock cluster and s3rver', async () => {
      const [k, s3] = await Promise.all([startKafkaMock(3), startS3({ buckets: ['b'] })]);
      running.push(k, s3);
      expect(k.brokers.split(',')).toHaveLength(3);
      expect((await fetch(`${s3.endpoint}/b`)).status).toBe(200);
    });
  },
);
