/**
 * The stack's monitoring, run on this machine's real servers: Prometheus 2.42 and Alertmanager 0.25
 * with the stack's own rendered configuration (kind overlay) and rule files, the Debian postgres and
 * redis exporters against real PostgreSQL and Redis. What differs from the cluster, and why:
 *  - targets are static instead of Kubernetes service discovery (no API server here); each carries
 *    the `service` and `pod` labels the stack's relabel rules set (prometheus-grafana.yaml);
 *  - scrapes, rule evaluation and alert resends every second instead of 15 s / 1 m, so the tests
 *    take seconds;
 *  - Alertmanager's receivers point at a local webhook (no SMTP or in-cluster webhook here) and
 *    group_wait is 1 s; its route tree and group_by are the stack's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { type KubeObject, kustomize, parseRendered } from '../../src/manifests/render.ts';
import { freePort, tempDir, waitFor } from '../harness/services.ts';

export const MANIFESTS = resolve(import.meta.dirname, '../../manifests');

export interface StackMonitoringConfig {
  prometheus: Record<string, unknown>;
  /** Rule files by name: the stack's rules.yml and every key of ConfigMap prometheus-rules. */
  rules: Record<string, string>;
  alertmanager: Record<string, unknown>;
}

/** The monitoring configuration as the kind overlay renders it. */
export async function renderedMonitoring(profile = 'kind'): Promise<StackMonitoringConfig> {
  const objects = parseRendered(await kustomize(join(MANIFESTS, 'overlays', profile)));
  const find = (kind: string, name: string): KubeObject => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`the rendered stack has no ${kind} ${name}`);
    return o;
  };
  const data = (o: KubeObject, field = 'data') => (o as Record<string, Record<string, string>>)[field]!;
  const promConfig = data(find('ConfigMap', 'prometheus-config'));
  return {
    prometheus: parse(promConfig['prometheus.yml']!),
    rules: { 'rules.yml': promConfig['rules.yml']!, ...data(find('ConfigMap', 'prometheus-rules')) },
    alertmanager: parse(data(find('Secret', 'alertmanager-config'), 'stringData')['alertmanager.yml']!),
  };
}

export interface Proc {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  process: ChildProcess;
  /** The last 3 KB it wrote to stderr (for failure messages). */
  stderr(): string;
}

/** Waits for `url` to answer 200, or fails with the process' last words. */
async function ready(what: string, p: Proc, path: string): Promise<void> {
  try {
    await waitFor(what, () => ok(`${p.url}${path}`));
  } catch (err) {
    await p.stop();
    throw new Error(`${String(err)}\n${p.stderr()}`);
  }
}

function launch(cmd: string, args: string[], port: number, dir: string, env?: NodeJS.ProcessEnv): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    tail = (tail + d).slice(-3000);
  });
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    process: child,
    stderr: () => tail,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ok(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.status === 200;
}

/** Debian's prometheus-postgres-exporter (0.11) against `dsn`. */
export async function startPostgresExporter(dsn: string): Promise<Proc> {
  const port = await freePort();
  const p = launch(
    'prometheus-postgres-exporter',
    [`--web.listen-address=127.0.0.1:${port}`],
    port,
    tempDir('pgexp'),
    { DATA_SOURCE_NAME: dsn },
  );
  await ready('postgres exporter', p, '/metrics');
  return p;
}

/** Debian's prometheus-redis-exporter (1.45) against `redisUrl`. */
export async function startRedisExporter(redisUrl: string): Promise<Proc> {
  const port = await freePort();
  const p = launch(
    'prometheus-redis-exporter',
    ['-redis.addr', redisUrl, '-web.listen-address', `127.0.0.1:${port}`],
    port,
    tempDir('redisexp'),
  );
  await ready('redis exporter', p, '/metrics');
  return p;
}

export interface Target {
  address: string;
  service: string;
  pod: string;
}

/**
 * Prometheus with the stack's `global` (external_labels: cluster) and rule files, static targets
 * labelled as the stack's relabelling labels them, alerts to `alertmanager`.
 */
export async function startStackPrometheus(
  config: StackMonitoringConfig,
  targets: readonly Target[],
  alertmanager: string,
): Promise<Proc & { ruleDir: string; reload(): Promise<void> }> {
  const dir = tempDir('stackprom');
  const ruleDir = join(dir, 'rules');
  mkdirSync(ruleDir);
  for (const [name, text] of Object.entries(config.rules)) writeFileSync(join(ruleDir, name), text);
  const port = await freePort();
  const global = {
    ...(config.prometheus.global as object),
    scrape_interval: '1s',
    scrape_timeout: '900ms',
    evaluation_interval: '1s',
  };
  const doc = {
    global,
    rule_files: [join(ruleDir, '*.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager).host] }] }] },
    scrape_configs: [
      {
        job_name: 'voiceassistant-infra',
        static_configs: targets.map((t) => ({
          targets: [t.address],
          labels: { service: t.service, pod: t.pod, namespace: 'voiceassistant-infra' },
        })),
      },
    ],
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(doc));
  const p = launch(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      // a reload re-discovers the Alertmanagers (a few seconds): alerts fired meanwhile are dropped
      // and resent after this delay (default 1m)
      '--rules.alert.resend-delay=1s',
    ],
    port,
    dir,
  );
  await ready('prometheus', p, '/-/ready');
  return {
    ...p,
    ruleDir,
    reload: async () => {
      const res = await fetch(`${p.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new Error(`reload: HTTP ${res.status} ${await res.text()}`);
    },
  };
}

export interface Webhook {
  url: string;
  received: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Collects Alertmanager's webhook notifications (the JSON body of each POST). */
export async function startWebhook(): Promise<Webhook> {
  const received: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      try {
        received.push({ path: req.url, ...JSON.parse(body) });
      } catch {
        received.push({ path: req.url, raw: body });
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Alertmanager with the stack's route tree; receivers' webhooks go to `webhook`, emails dropped. */
export async function startStackAlertmanager(config: StackMonitoringConfig, webhook: string): Promise<Proc> {
  const am = structuredClone(config.alertmanager) as {
    global?: Record<string, unknown>;
    route: Record<string, unknown>;
    receivers: { name: string; webhook_configs?: { url: string }[]; email_configs?: unknown }[];
  };
  am.global = { resolve_timeout: am.global?.resolve_timeout ?? '5m' };
  am.route.group_wait = '1s';
  am.route.group_interval = '1s';
  for (const r of am.receivers) {
    delete r.email_configs;
    r.webhook_configs = (r.webhook_configs ?? []).map((w) => ({
      ...w,
      url: `${webhook}${new URL(w.url).pathname}`,
    }));
  }
  const dir = tempDir('stackam');
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
  const port = await freePort();
  const p = launch(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    port,
    dir,
  );
  await ready('alertmanager', p, '/-/ready');
  return p;
}

/** `GET /api/v1/query` → the vector's samples (test helper; the product code is src/probes/metrics.ts). */
export async function promQuery(
  prom: string,
  q: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

export interface Monitoring {
  config: StackMonitoringConfig;
  prometheus: Awaited<ReturnType<typeof startStackPrometheus>>;
  alertmanager: Proc;
  webhook: Webhook;
  exporters: { postgres: Proc; redis: Proc };
  /** Every scrape target, as labelled. */
  targets: Target[];
  /** `COMPONENT.metrics` → this Prometheus, for every component with metrics checks. */
  endpoints: Map<string, URL>;
  stop(): Promise<void>;
}

/**
 * The stack's Prometheus and Alertmanager with the Debian exporters on `postgresUrl` and `redisUrl`
 * and the named metric stand-ins (Milvus, kafka_exporter, ClickHouse 24.8), every target scraped.
 */
export async function startMonitoring(postgresUrl: string, redisUrl: string): Promise<Monitoring> {
  const {
    clickhouseMetricsStandIn,
    elasticsearchExporterStandIn,
    kafkaExporterStandIn,
    milvusMetricsStandIn,
  } = await import('../standins/metrics-standins.ts');
  const config = await renderedMonitoring('kind');
  const dsn = new URL(postgresUrl);
  dsn.searchParams.set('sslmode', 'disable');
  const [pgExporter, redisExporter, webhook, milvus, kafka, clickhouse, elasticsearch] = await Promise.all([
    startPostgresExporter(dsn.href),
    startRedisExporter(redisUrl),
    startWebhook(),
    milvusMetricsStandIn(),
    kafkaExporterStandIn(),
    clickhouseMetricsStandIn(),
    elasticsearchExporterStandIn(),
  ]);
  const alertmanager = await startStackAlertmanager(config, webhook.url);
  const targets: Target[] = [
    { address: `127.0.0.1:${pgExporter.port}`, service: 'postgres', pod: 'postgres-0' },
    { address: `127.0.0.1:${redisExporter.port}`, service: 'redis', pod: 'redis-0' },
    { address: `127.0.0.1:${milvus.port}`, service: 'milvus', pod: 'milvus-0' },
    { address: `127.0.0.1:${kafka.port}`, service: 'kafka-exporter', pod: 'kafka-exporter-0' },
    { address: `127.0.0.1:${clickhouse.port}`, service: 'clickhouse', pod: 'clickhouse-0' },
    {
      address: `127.0.0.1:${elasticsearch.port}`,
      service: 'elasticsearch-exporter',
      pod: 'elasticsearch-exporter-0',
    },
  ];
  const prometheus = await startStackPrometheus(config, targets, alertmanager.url);
  await waitFor(
    'every target scraped three times',
    async () =>
      (await promQuery(prometheus.url, 'count_over_time(up[1m]) >= 3 and up == 1')).length === targets.length,
    30_000,
  );
  return {
    config,
    prometheus,
    alertmanager,
    webhook,
    exporters: { postgres: pgExporter, redis: redisExporter },
    targets,
    endpoints: new Map(
      ['postgres', 'redis', 'milvus', 'kafka', 'elasticsearch', 'clickhouse'].map((c) => [
        `${c}.metrics`,
        new URL(prometheus.url),
      ]),
    ),
    stop: async () => {
      await Promise.all([prometheus.stop(), alertmanager.stop(), pgExporter.stop(), redisExporter.stop()]);
      await Promise.all([
        webhook.stop(),
        milvus.stop(),
        kafka.stop(),
        clickhouse.stop(),
        elasticsearch.stop(),
      ]);
    },
  };
}
