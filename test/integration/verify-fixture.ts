/**
 * The whole stack on this machine for verify's tests: REAL PostgreSQL (with the seed's databases),
 * Redis (configured like the seed), ClickHouse, etcd, Alertmanager, Prometheus (scraping etcd and
 * Alertmanager), Kafka's wire protocol (librdkafka mock cluster), MinIO's buckets on s3rver; and
 * named stand-ins for what cannot run here (Nacos, Milvus, Elasticsearch, Grafana, Jaeger, kafka-ui,
 * MinIO's /minio/health/*).
 */
import { loadStack } from '../../src/catalog/index.ts';
import type { Stack } from '../../src/catalog/types.ts';
import { parseEndpointFlags } from '../../src/targets/endpoints.ts';
import {
  psql,
  type Running,
  type RunningPostgres,
  type RunningRedis,
  type RunningS3,
  startAlertmanager,
  startClickHouse,
  startEtcd,
  startKafkaMock,
  startPostgres,
  startPrometheus,
  startRedis,
  startS3,
} from '../harness/services.ts';
import { type StandIn, type StandInKind, startStandIn } from '../standins/http-services.ts';
import { provisionedDashboards } from '../standins/metrics-standins.ts';

export const PG_PASSWORD = 'pg-S3cret-4711';
export const GRAFANA_PASSWORD = 'gf-S3cret-0815';
export const NACOS_PASSWORD = 'nacos-Adm1n-4711';
export const SEED_BUCKETS = ['documents', 'multimodal', 'milvus-bucket', 'backups'];
// the seed's Redis: maxmemory 2gb (redis/metric-memory compares against it), allkeys-lru, AOF
export const REDIS_SEED_CONFIG = [
  '--maxmemory',
  '2gb',
  '--maxmemory-policy',
  'allkeys-lru',
  '--appendonly',
  'yes',
];

export interface StackFixture {
  stack: Stack;
  pg: RunningPostgres;
  redis: RunningRedis;
  s3: RunningS3;
  real: Record<string, Running & { url?: string }>;
  standIns: Record<StandInKind, StandIn>;
  /** `--endpoint` flags for every component that has a server here. */
  flags: Record<string, string>;
  endpoints(overrides?: Record<string, string>): Map<string, URL>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<StackFixture> {
  const stack = loadStack('manifests/stack.yaml');
  const [pg, redis, clickhouse, etcd, alertmanager, kafka, s3] = await Promise.all([
    startPostgres({ password: PG_PASSWORD }),
    startRedis({ config: REDIS_SEED_CONFIG }),
    startClickHouse(),
    startEtcd(),
    startAlertmanager(),
    startKafkaMock(3),
    startS3({ buckets: SEED_BUCKETS }),
  ]);
  for (const db of ['identity', 'conversation', 'knowledge']) psql(pg, `CREATE DATABASE ${db}`);
  const prometheus = await startPrometheus({
    targets: [`127.0.0.1:${etcd.port}`, `127.0.0.1:${alertmanager.port}`],
  });
  const kinds: StandInKind[] = ['nacos', 'milvus', 'elasticsearch', 'grafana', 'jaeger', 'kafka-ui', 'minio'];
  const list = await Promise.all(
    kinds.map((k) =>
      startStandIn(k, {
        credentials:
          k === 'grafana'
            ? { username: 'admin', password: GRAFANA_PASSWORD }
            : k === 'nacos'
              ? { username: 'nacos', password: NACOS_PASSWORD }
              : undefined,
        s3Upstream: k === 'minio' ? s3.endpoint : undefined,
        dashboards: k === 'grafana' ? provisionedDashboards() : undefined,
      }),
    ),
  );
  const standIns = Object.fromEntries(list.map((s) => [s.kind, s])) as Record<StandInKind, StandIn>;
  const hostOf = (u: string) => new URL(u).host;
  const flags: Record<string, string> = {
    postgres: pg.url,
    redis: redis.url,
    clickhouse: clickhouse.url,
    etcd: etcd.url,
    alertmanager: alertmanager.url,
    prometheus: prometheus.url,
    kafka: kafka.url,
    minio: `http://${s3.accessKeyId}:${s3.secretAccessKey}@${hostOf(standIns.minio.url)}`,
    nacos: `http://nacos:${NACOS_PASSWORD}@${hostOf(standIns.nacos.url)}`,
    milvus: standIns.milvus.url,
    'milvus.grpc': `tcp://127.0.0.1:${standIns.milvus.grpcPort}`,
    elasticsearch: standIns.elasticsearch.url,
    grafana: `http://admin:${GRAFANA_PASSWORD}@${hostOf(standIns.grafana.url)}`,
    jaeger: standIns.jaeger.url,
    'kafka-ui': standIns['kafka-ui'].url,
  };
  const real = { pg, redis, clickhouse, etcd, alertmanager, kafka, s3, prometheus };
  return {
    stack,
    pg,
    redis,
    s3,
    real,
    standIns,
    flags,
    endpoints: (overrides = {}) =>
      parseEndpointFlags(
        stack,
        Object.entries({ ...flags, ...overrides }).map(([k, v]) => `${k}=${v}`),
      ),
    stop: async () => {
      await Promise.all([...Object.values(real).map((r) => r.stop()), ...list.map((s) => s.stop())]);
    },
  };
}
