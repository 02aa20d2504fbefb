/**
 * The rendered stack (both sizing profiles, real `kubectl kustomize`) against the seed README and the
 * catalog: names, ports, pod names, the wiring between services, and the seed's configuration.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadStack } from '../../src/catalog/index.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { containerPorts, list, podSpec, Rendered, rec, targetsContainer } from './manifests-fixture.ts';

const stack = loadStack('manifests/stack.yaml');
const NS = stack.namespace;
const NAME = 'app.kubernetes.io/name';
const PART_OF = 'app.kubernetes.io/part-of';

/** The seed README's service table (service -> ports) and the pods its commands exec into. */
const SEED_SERVICES: Record<string, number[]> = {
  postgres: [5432],
  redis: [6379],
  nacos: [8848],
  etcd: [2379],
  milvus: [19530, 9091],
  elasticsearch: [9200],
  clickhouse: [9000, 8123],
  kafka: [9092],
  'kafka-ui': [8080],
  minio: [9000, 9001],
  prometheus: [9090],
  grafana: [3000],
  'jaeger-query': [16686],
  alertmanager: [9093],
};
const SEED_PODS = [
  'postgres-0',
  'redis-0',
  'elasticsearch-0',
  'clickhouse-0',
  'kafka-0',
  'milvus-0',
  'minio-0',
];
const SEED_BUCKETS = ['documents', 'multimodal', 'milvus-bucket', 'backups'];

const profiles = ['kind', 'production'] as const;
const rendered = {} as Record<(typeof profiles)[number], Rendered>;

beforeAll(async () => {
  for (const p of profiles) rendered[p] = new Rendered(await renderSizing(stack, p), NS);
}, 60_000);

const replicasOf = (r: Rendered, kind: string, name: string) => {
  const n = rec(r.get(kind, name).spec).replicas;
  return typeof n === 'number' ? n : 1;
};

describe.each(profiles)('manifests, %s profile', (profile) => {
  const r = () => rendered[profile];

  it('labels every object with part-of and its catalog component, in the stack namespace', () => {
    const components = new Set(Object.keys(stack.components));
    for (const o of r().objects) {
      const id = `${o.kind} ${o.metadata.name}`;
      expect(o.metadata.labels?.[PART_OF], id).toBe('voiceassistant-infra');
      if (o.kind === 'Namespace') {
        expect(o.metadata.name).toBe(NS);
        continue;
      }
      expect(o.metadata.namespace, id).toBe(NS);
      // the generated namespace-wide default deny (base/network-policies.yaml) belongs to no component
      if (o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny-ingress') continue;
      expect(components, `${id}: ${NAME}=${o.metadata.labels?.[NAME]}`).toContain(o.metadata.labels?.[NAME]);
      const template = rec(rec(o.spec).template);
      if (Object.keys(template).length) {
        expect(rec(rec(template.metadata).labels)[NAME], `${id} pod template`).toBe(
          o.metadata.labels?.[NAME],
        );
      }
    }
  });

  it("has the seed's Services with the seed's ports, each reaching a container port", () => {
    for (const [name, ports] of Object.entries(SEED_SERVICES)) {
      const svc = r().get('Service', name);
      const svcPorts = list(rec(svc.spec).ports);
      for (const port of ports) {
        const p = svcPorts.find((x) => x.port === port);
        expect(p, `${name}:${port}`).toBeDefined();
        const workloads = r().selectedWorkloads(svc);
        expect(workloads.length, `${name} selects a workload`).toBeGreaterThan(0);
        for (const w of workloads)
          expect(targetsContainer(p!, podSpec(w)), `${name}:${port} -> ${w.metadata.name}`).toBe(true);
      }
    }
  });

  it('routes every Service port to a container port of the workloads it selects', () => {
    for (const svc of r().ofKind('Service')) {
      const workloads = r().selectedWorkloads(svc);
      expect(workloads.length, `Service ${svc.metadata.name} selects nothing`).toBeGreaterThan(0);
      for (const p of list(rec(svc.spec).ports))
        for (const w of workloads)
          expect(
            targetsContainer(p, podSpec(w)),
            `${svc.metadata.name}:${p.port} -> ${w.metadata.name}`,
          ).toBe(true);
    }
  });

  it("runs the pods the seed's commands exec into", () => {
    for (const pod of SEED_PODS) {
      const set = pod.replace(/-\d+$/, '');
      expect(replicasOf(r(), 'StatefulSet', set), pod).toBeGreaterThan(Number(pod.split('-').pop()));
    }
  });

  it('gives every StatefulSet a headless governing Service and volumeClaimTemplates', () => {
    for (const sts of r().ofKind('StatefulSet')) {
      const spec = rec(sts.spec);
      const headless = r().get('Service', String(spec.serviceName));
      expect(rec(headless.spec).clusterIP, `${headless.metadata.name}`).toBe('None');
      expect(r().selectedWorkloads(headless)).toContain(sts);
      expect(list(spec.volumeClaimTemplates).length, `${sts.metadata.name}`).toBeGreaterThan(0);
    }
  });

  it('sets requests and limits on every container and probes on every long-running one', () => {
    for (const o of r().objects) {
      const template =
        o.kind === 'CronJob'
          ? rec(rec(rec(rec(o.spec).jobTemplate).spec).template)
          : rec(rec(o.spec).template);
      const spec = rec(template.spec);
      const longRunning = ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind);
      for (const c of [...list(spec.initContainers), ...list(spec.containers)]) {
        const id = `${o.kind} ${o.metadata.name} container ${c.name}`;
        for (const k of ['requests', 'limits'])
          for (const res of ['cpu', 'memory'])
            expect(rec(rec(c.resources)[k])[res], `${id} ${k}.${res}`).toBeDefined();
      }
      if (longRunning)
        for (const c of list(spec.containers)) {
          expect(c.readinessProbe, `${o.metadata.name}/${c.name} readiness`).toBeDefined();
          expect(c.livenessProbe, `${o.metadata.name}/${c.name} liveness`).toBeDefined();
        }
    }
  });

  it('pins every image to a tag from the base kustomization, and uses every pin', () => {
    const pins = list(
      rec(parseYaml(readFileSync(resolve(stack.dir, 'base/kustomization.yaml'), 'utf8'))).images,
    );
    const wanted = new Set(pins.map((p) => `${p.name}:${p.newTag}`));
    const used = new Set<string>();
    for (const o of r().objects) {
      const template =
        o.kind === 'CronJob' ? rec(rec(rec(o.spec).jobTemplate).spec).template : rec(o.spec).template;
      const spec = rec(rec(template).spec);
      for (const c of [...list(spec.initContainers), ...list(spec.containers)]) {
        expect(wanted, `${o.metadata.name}/${c.name}`).toContain(c.image);
        used.add(String(c.image));
      }
    }
    expect([...used].sort()).toEqual([...wanted].sort());
  });

  it('matches the catalog: workloads, Services, endpoints, Secret references and exec pods', () => {
    for (const c of Object.values(stack.components)) {
      for (const w of c.workloads)
        expect(r().get(w.kind, w.name).metadata.labels?.[NAME], w.name).toBe(c.name);
      for (const s of c.services) {
        const svc = r().get('Service', s.name);
        expect(svc.metadata.labels?.[NAME]).toBe(c.name);
        const ports = list(rec(svc.spec).ports).map((p) => p.port);
        for (const p of s.ports) expect(ports, `${s.name}:${p}`).toContain(p);
      }
      for (const e of c.endpoints) {
        expect(r().serviceFor(`${e.service}:${e.port}`), `${c.name}.${e.name}`).toBeDefined();
        for (const cred of [e.username, e.password])
          if (cred && typeof cred === 'object')
            expect(Object.keys(r().secretData(cred.secret)), `${cred.secret}.${cred.key}`).toContain(
              cred.key,
            );
      }
      for (const check of c.checks.filter((x) => typeof x.pod === 'string')) {
        const [, set, ordinal] = /^(.*)-(\d+)$/.exec(String(check.pod))!;
        expect(replicasOf(r(), 'StatefulSet', set!), String(check.pod)).toBeGreaterThan(Number(ordinal));
      }
    }
  });

  it('keeps secret values out of ConfigMaps', () => {
    const secrets = r()
      .ofKind('Secret')
      .flatMap((s) => Object.entries(r().secretData(s.metadata.name)))
      .filter(([k, v]) => /PASSWORD|TOKEN|SECRET/i.test(k) && v.length >= 8)
      .map(([, v]) => v);
    expect(secrets.length).toBeGreaterThan(3);
    for (const cm of r().ofKind('ConfigMap'))
      for (const [k, v] of Object.entries(r().configData(cm.metadata.name)))
        for (const s of secrets) expect(v.includes(s), `ConfigMap ${cm.metadata.name}.${k}`).toBe(false);
  });

  it("forms Kafka's KRaft quorum from exactly its replicas", () => {
    const sts = r().get('StatefulSet', 'kafka');
    const replicas = replicasOf(r(), 'StatefulSet', 'kafka');
    const env = r().env('StatefulSet', 'kafka', 'kafka');
    const governing = String(rec(sts.spec).serviceName);
    const voters = env.KAFKA_CONTROLLER_QUORUM_VOTERS!.split(',').map((v) => v.trim());
    expect(voters).toEqual(
      Array.from({ length: replicas }, (_, i) => `${i}@kafka-${i}.${governing}.${NS}.svc.cluster.local:9093`),
    );
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const headless = rec(r().get('Service', governing).spec);
    expect(headless.publishNotReadyAddresses).toBe(true);
    expect(list(headless.ports).map((p) => p.port)).toContain(9093);
    for (const k of [
      'KAFKA_DEFAULT_REPLICATION_FACTOR',
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
    ])
      expect(Number(env[k]), k).toBe(replicas);
    const minIsr = Number(env.KAFKA_MIN_INSYNC_REPLICAS);
    expect(minIsr).toBe(replicas === 1 ? 1 : replicas - 1);
    expect(env.KAFKA_LOG_RETENTION_HOURS).toBe('168');
  });

  it("lists exactly Nacos' replicas as its cluster members, on MySQL", () => {
    const sts = r().get('StatefulSet', 'nacos');
    const replicas = replicasOf(r(), 'StatefulSet', 'nacos');
    const env = r().env('StatefulSet', 'nacos', 'nacos');
    const governing = String(rec(sts.spec).serviceName);
    expect(env.MODE).toBe('cluster');
    expect(env.NACOS_SERVERS!.trim().split(/\s+/)).toEqual(
      Array.from({ length: replicas }, (_, i) => `nacos-${i}.${governing}.${NS}.svc.cluster.local:8848`),
    );
    expect(rec(r().get('Service', governing).spec).publishNotReadyAddresses).toBe(true);
    expect(env.SPRING_DATASOURCE_PLATFORM).toBe('mysql');
    const mysql = r().serviceFor(`${env.MYSQL_SERVICE_HOST}:${env.MYSQL_SERVICE_PORT}`);
    expect(mysql?.service.metadata.labels?.[NAME]).toBe('nacos-mysql');
    const db = r().env('StatefulSet', 'nacos-mysql', 'mysql');
    expect(db.MYSQL_DATABASE).toBe(env.MYSQL_SERVICE_DB_NAME);
    expect(db.MYSQL_USER).toBe(env.MYSQL_SERVICE_USER);
    expect(db.MYSQL_PASSWORD).toBe(env.MYSQL_SERVICE_PASSWORD);
  });

  // nacos-group/nacos-docker v2.4.3 build/conf/application.properties: server.port=${NACOS_APPLICATION_PORT:8848}
  it('sets the HTTP port through NACOS_APPLICATION_PORT, the variable the pinned image reads', () => {
    const env = r().env('StatefulSet', 'nacos', 'nacos');
    const http = containerPorts(podSpec(r().get('StatefulSet', 'nacos'))).find((p) => p.name === 'http');
    expect(env.NACOS_APPLICATION_PORT).toBe(String(http?.number));
    expect(env.NACOS_SERVER_PORT).toBeUndefined();
  });

  it('points Milvus at the etcd and MinIO services, bucket and credentials', () => {
    const env = r().env('StatefulSet', 'milvus', 'milvus');
    // the user.yaml Milvus reads over its defaults, mounted where Milvus looks for it
    const user = rec(parseYaml(r().configData('milvus-config')['user.yaml']!));
    const etcd = rec(user.etcd);
    const minio = rec(user.minio);
    const sts = rec(rec(rec(r().get('StatefulSet', 'milvus').spec).template).spec);
    const container = list(sts.containers).find((c) => c.name === 'milvus')!;
    expect(list(container.volumeMounts)).toContainEqual(
      expect.objectContaining({ mountPath: '/milvus/configs/user.yaml', subPath: 'user.yaml' }),
    );
    for (const endpoint of etcd.endpoints as string[])
      expect(r().serviceFor(endpoint)?.service.metadata.labels?.[NAME]).toBe('etcd');
    expect(r().serviceFor(`${minio.address}:${minio.port}`)?.service.metadata.labels?.[NAME]).toBe('minio');
    expect(minio.bucketName).toBe('milvus-bucket');
    expect(r().configData('minio-buckets').BUCKETS!.split(/\s+/)).toContain(minio.bucketName);
    const minioEnv = r().env('StatefulSet', 'minio', 'minio');
    expect(env.MINIO_ACCESS_KEY_ID).toBe(minioEnv.MINIO_ROOT_USER);
    expect(env.MINIO_SECRET_ACCESS_KEY).toBe(minioEnv.MINIO_ROOT_PASSWORD);
    expect(rec(r().get('Service', 'milvus').spec).ports).toContainEqual(
      expect.objectContaining({ port: 9091 }),
    );
  });

  it('stores Jaeger traces in Elasticsearch and samples 10% (50% for AI services)', () => {
    const env = r().env('Deployment', 'jaeger', 'jaeger');
    expect(env.SPAN_STORAGE_TYPE).toBe('elasticsearch');
    const url = new URL(env.ES_SERVER_URLS!);
    expect(r().serviceFor(url.host)?.service.metadata.labels?.[NAME]).toBe('elasticsearch');
    const args = r().container('Deployment', 'jaeger', 'jaeger').args as string[];
    const file = args.find((a) => a.startsWith('--sampling.strategies-file='))!.split('=')[1]!;
    const mount = list(r().container('Deployment', 'jaeger', 'jaeger').volumeMounts).find((m) =>
      file.startsWith(`${m.mountPath}/`),
    )!;
    const volume = list(podSpec(r().get('Deployment', 'jaeger')).volumes).find((v) => v.name === mount.name)!;
    const strategies = JSON.parse(
      r().configData(String(rec(volume.configMap).name))[file.slice(String(mount.mountPath).length + 1)]!,
    );
    expect(strategies.default_strategy).toEqual({ type: 'probabilistic', param: 0.1 });
    expect(strategies.service_strategies.length).toBeGreaterThan(0);
    for (const s of strategies.service_strategies)
      expect(s).toMatchObject({ type: 'probabilistic', param: 0.5 });
    expect(r().get('CronJob', 'jaeger-es-index-cleaner')).toBeDefined();
  });

  it('scrapes only Services of the set, on ports their pods serve, every 15 s for 15 days', () => {
    const prom = r().yamlIn('ConfigMap', 'prometheus-config', 'prometheus.yml');
    expect(rec(prom.global).scrape_interval).toBe('15s');
    const args = r().container('StatefulSet', 'prometheus', 'prometheus').args as string[];
    expect(args).toContain('--storage.tsdb.retention.time=15d');
    const jobs = list(prom.scrape_configs);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      for (const sd of list(job.kubernetes_sd_configs))
        expect(rec(sd.namespaces).names, String(job.job_name)).toEqual([NS]);
      for (const sc of list(job.static_configs))
        for (const t of sc.targets as string[]) expect(r().serviceFor(t), `static target ${t}`).toBeDefined();
      // Service discovery jobs must keep only annotated Services, and only their ready endpoints
      // (EndpointSlice discovery returns not-ready ones too: test/unit/manifests-prometheus.test.ts).
      if (list(job.kubernetes_sd_configs).length)
        for (const label of [
          '__meta_kubernetes_service_annotation_prometheus_io_scrape',
          '__meta_kubernetes_endpointslice_endpoint_conditions_ready',
        ])
          expect(
            list(job.relabel_configs).find((rule) => (rule.source_labels as string[])?.[0] === label),
            `${String(job.job_name)}: keep ${label}="true"`,
          ).toMatchObject({ source_labels: [label], regex: 'true', action: 'keep' });
    }
    const annotated = r()
      .ofKind('Service')
      .filter((s) => s.metadata.annotations?.['prometheus.io/scrape'] === 'true');
    expect(annotated.map((s) => s.metadata.labels?.[NAME]).sort()).toEqual(
      [
        'alertmanager',
        'clickhouse',
        'etcd',
        'grafana',
        'elasticsearch-exporter',
        'jaeger',
        'kafka-exporter',
        'milvus',
        'minio',
        'postgres',
        'prometheus',
        'redis',
      ].sort(),
    );
    for (const svc of annotated) {
      const port = Number(svc.metadata.annotations?.['prometheus.io/port']);
      const sp = list(rec(svc.spec).ports).find((p) => p.port === port);
      expect(sp, `${svc.metadata.name} annotation port ${port}`).toBeDefined();
      // The scrape goes to podIP:<annotation port>, so the pods must listen on that very number.
      for (const w of r().selectedWorkloads(svc))
        expect(
          containerPorts(podSpec(w)).map((p) => p.number),
          `${w.metadata.name}:${port}`,
        ).toContain(port);
      expect(svc.metadata.annotations?.['prometheus.io/path'] ?? '/metrics').toMatch(/^\//);
    }
    // Alertmanager is discovered the same way: the kept service/port pair must exist.
    const am = list(list(rec(prom.alerting).alertmanagers)[0]?.relabel_configs)[0]!;
    const [svcName, portName] = String(am.regex).split(';');
    expect(list(rec(r().get('Service', svcName!).spec).ports).map((p) => p.name)).toContain(portName);
    const role = r().get('Role', 'prometheus-discovery');
    expect(list(role.rules).flatMap((x) => x.resources as string[])).toContain('endpointslices');
  });

  it('provisions Grafana with the Prometheus data source', () => {
    const ds = list(r().yamlIn('ConfigMap', 'grafana-datasources', 'datasources.yaml').datasources).find(
      (d) => d.name === 'Prometheus',
    );
    expect(ds?.type).toBe('prometheus');
    expect(r().serviceFor(new URL(String(ds?.url)).host)?.service.metadata.labels?.[NAME]).toBe('prometheus');
  });

  it('groups alerts by alertname, cluster and service, with email and webhook receivers (in a Secret)', () => {
    const am = r().yamlIn('Secret', 'alertmanager-config', 'alertmanager.yml');
    expect(rec(am.route).group_by).toEqual(['alertname', 'cluster', 'service']);
    const receivers = list(am.receivers);
    expect(receivers.some((x) => list(x.email_configs).length > 0)).toBe(true);
    expect(receivers.some((x) => list(x.webhook_configs).length > 0)).toBe(true);
    const prom = r().yamlIn('ConfigMap', 'prometheus-config', 'prometheus.yml');
    expect(rec(rec(prom.global).external_labels).cluster).toBeDefined();
  });

  it("applies the seed's settings: PostgreSQL, Redis, MinIO, Elasticsearch, ClickHouse", () => {
    const pg = r().container('StatefulSet', 'postgres', 'postgres').args as string[];
    expect(pg.join(' ')).toContain('max_connections=200');
    const initdb = Object.values(r().configData('postgres-initdb')).join('\n');
    for (const db of ['identity', 'conversation', 'knowledge'])
      expect(initdb).toContain(`CREATE DATABASE ${db};`);

    const conf = r().configData('redis-config')['redis.conf']!;
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^save \d+ \d+$/m);
    expect(conf).toMatch(/^maxmemory-policy allkeys-lru$/m);

    expect(r().configData('minio-buckets').BUCKETS!.split(/\s+/).sort()).toEqual([...SEED_BUCKETS].sort());
    expect(r().configData('minio-buckets')['create-buckets.sh']).toContain('mc mb --ignore-existing');

    const ilm = JSON.parse(r().configData('elasticsearch-ilm')['policy.json']!);
    expect(ilm.policy.phases.delete.min_age).toBe('30d');
    const es = r().env('StatefulSet', 'elasticsearch', 'elasticsearch');
    expect(es['discovery.type']).toBe('single-node');
    expect(replicasOf(r(), 'StatefulSet', 'elasticsearch')).toBe(1);

    const ch = r().configData('clickhouse-config')['stack.xml']!;
    expect(ch).toContain('<method>zstd</method>');
    expect(ch).toContain('INTERVAL 90 DAY');
  });
});

describe('sizing differences between the profiles', () => {
  it('production has the seed replicas, storage, heaps and memory limits', () => {
    const p = rendered.production;
    expect(replicasOf(p, 'StatefulSet', 'nacos')).toBe(3);
    expect(replicasOf(p, 'StatefulSet', 'kafka')).toBe(3);
    const storage = (name: string) =>
      rec(
        rec(rec(list(rec(p.get('StatefulSet', name).spec).volumeClaimTemplates)[0]?.spec).resources).requests,
      ).storage;
    expect({
      postgres: storage('postgres'),
      redis: storage('redis'),
      milvus: storage('milvus'),
      elasticsearch: storage('elasticsearch'),
      clickhouse: storage('clickhouse'),
      minio: storage('minio'),
      prometheus: storage('prometheus'),
    }).toEqual({
      postgres: '50Gi',
      redis: '10Gi',
      milvus: '100Gi',
      elasticsearch: '100Gi',
      clickhouse: '100Gi',
      minio: '200Gi',
      prometheus: '100Gi',
    });
    expect(rec(rec(p.get('PersistentVolumeClaim', 'grafana-data').spec).resources)).toEqual({
      requests: { storage: '10Gi' },
    });
    expect(p.env('StatefulSet', 'elasticsearch', 'elasticsearch').ES_JAVA_OPTS).toBe('-Xms2g -Xmx2g');
    expect(p.env('StatefulSet', 'redis', 'redis').REDIS_MAXMEMORY).toBe('2gb');
  });

  it('kind runs one replica of everything on small volumes and heaps', () => {
    const k = rendered.kind;
    for (const o of k.objects.filter((x) => ['StatefulSet', 'Deployment'].includes(x.kind)))
      expect(replicasOf(k, o.kind, o.metadata.name), o.metadata.name).toBe(1);
    for (const sts of k.ofKind('StatefulSet'))
      for (const vct of list(rec(sts.spec).volumeClaimTemplates))
        expect(['1Gi', '2Gi'], sts.metadata.name).toContain(
          rec(rec(rec(vct.spec).resources).requests).storage,
        );
    expect(k.env('StatefulSet', 'elasticsearch', 'elasticsearch').ES_JAVA_OPTS).toBe('-Xms512m -Xmx512m');
  });

  it('production generates the Secrets the base defines, with the same keys', () => {
    for (const s of rendered.kind.ofKind('Secret')) {
      const prod = rendered.production.get('Secret', s.metadata.name);
      expect(prod.stringData, s.metadata.name).toBeUndefined();
      expect(Object.keys(rendered.production.secretData(s.metadata.name)).sort()).toEqual(
        Object.keys(rendered.kind.secretData(s.metadata.name)).sort(),
      );
    }
  });
});
