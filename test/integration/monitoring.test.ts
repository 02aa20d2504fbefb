import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { verifyStack } from '../../src/app/verify.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { Stack } from '../../src/catalog/types.ts';
import type { VerifyReport } from '../../src/report/results.ts';
import { verifySummary } from '../../src/report/verify-summary.ts';
import {
  describeWithServices,
  type RunningPostgres,
  type RunningRedis,
  startPostgres,
  startRedis,
  tempDir,
  waitFor,
} from '../harness/services.ts';
import {
  MANIFESTS,
  type Monitoring,
  type Proc,
  promQuery,
  renderedMonitoring,
  type StackMonitoringConfig,
  startMonitoring,
  type Webhook,
} from './monitoring-stack.ts';

/** The components whose catalog checks include the seed's metrics, reached through Prometheus. */
const METRIC_COMPONENTS = ['postgres', 'redis', 'milvus', 'kafka', 'elasticsearch', 'clickhouse'];

let stack: Stack;
let config: StackMonitoringConfig;
let pg: RunningPostgres;
let redis: RunningRedis;
let mon: Monitoring;
let prom: Monitoring['prometheus'];
let am: Proc;
let webhook: Webhook;

async function verifyMetrics(timeoutMs: number): Promise<VerifyReport> {
  const components = METRIC_COMPONENTS.map((n) => stack.components[n]!);
  return verifyStack({
    stack,
    components,
    target: 'local',
    endpoints: mon.endpoints,
    timeoutMs,
    initialBackoffMs: 100,
    maxBackoffMs: 500,
  });
}

const metricChecks = (r: VerifyReport) => r.results.filter((x) => x.type === 'metrics');
const names = (rows: { component: string; check: string }[]) =>
  rows.map((x) => `${x.component}/${x.check}`).sort();

describeWithServices(
  'monitoring: the stack’s metrics, rules and routing on real Prometheus 2.42, Alertmanager 0.25 and the Debian exporters (Milvus, kafka_exporter and ClickHouse 24.8 endpoints are STAND-INS)',
  ['postgres', 'redis', 'prometheus', 'alertmanager', 'postgres-exporter', 'redis-exporter'],
  () => {
    beforeAll(async () => {
      stack = loadStack(join(MANIFESTS, 'stack.yaml'));
      [pg, redis] = await Promise.all([
        startPostgres(),
        // the seed's Redis settings: maxmemory 2gb (redis/metric-memory compares against it), allkeys-lru
        startRedis({ config: ['--maxmemory', '2gb', '--maxmemory-policy', 'allkeys-lru'] }),
      ]);
      mon = await startMonitoring(pg.url, redis.url);
      ({ config, prometheus: prom, alertmanager: am, webhook } = mon);
    }, 90_000);

    afterAll(async () => {
      await mon?.stop();
      await Promise.all([pg?.stop(), redis?.stop()]);
    });

    it('the monitoring fixture gives a Prometheus endpoint to every component with metrics checks', () => {
      const withMetrics = Object.values(stack.components)
        .filter((c) => c.checks.some((k) => k.type === 'metrics'))
        .map((c) => c.name);
      expect(withMetrics.sort()).toEqual([...METRIC_COMPONENTS].sort());
      expect([...mon.endpoints.keys()].sort()).toEqual(METRIC_COMPONENTS.map((n) => `${n}.metrics`).sort());
    });

    it('Prometheus loads every rule file of the stack (the rules API lists each group)', async () => {
      const res = await fetch(`${prom.url}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { name: string; rules: unknown[] }[] } };
      expect(body.data.groups.map((g) => g.name).sort()).toEqual([
        'clickhouse',
        'elasticsearch',
        'kafka',
        'milvus',
        'postgres',
        'redis',
        'voiceassistant-infra',
      ]);
    });

    it('every metrics check of the catalog passes, one per seed metric, with current values', async () => {
      const report = await verifyMetrics(20_000);
      const rows = metricChecks(report);
      expect(names(rows)).toEqual([
        'clickhouse/metric-compression-ratio',
        'clickhouse/metric-query-latency',
        'elasticsearch/metric-cluster-red',
        'elasticsearch/metric-heap',
        'kafka/metric-backlog',
        'kafka/metric-brokers',
        'kafka/metric-consumer-lag',
        'milvus/metric-index-count',
        'milvus/metric-search-latency',
        'postgres/metric-connections',
        'postgres/metric-qps',
        'postgres/metric-slow-queries',
        'redis/metric-hit-rate',
        'redis/metric-memory',
        'redis/metric-qps',
      ]);
      for (const r of rows) expect(r.status, `${r.component}/${r.check}: ${r.message}`).toBe('pass');
      const actual = (c: string, k: string) => rows.find((r) => r.component === c && r.check === k)?.actual;
      // values read from the real exporters and the stand-ins
      expect(actual('postgres', 'metric-connections')).toMatch(/^1 series: \d+ \(postgres-0\)$/);
      expect(actual('clickhouse', 'metric-compression-ratio')).toBe('1 series: 4 (clickhouse-0)');
      expect(actual('kafka', 'metric-backlog')).toBe('1 series: 12');
      expect(actual('milvus', 'metric-index-count')).toBe('1 series: 3 (milvus-0)');
      // the verify job summary's table of the seed's metrics
      const summary = verifySummary(report);
      expect(summary).toContain('### Seed metrics');
      expect(summary).toMatch(/\| ✅ \| postgres \| connections \| \d+ \(postgres-0\) \|/);
      expect(summary).toContain('| ✅ | kafka | backlog | 12 |');
      expect(
        summary.split('### Seed metrics')[1]!.match(/^\| ✅ \| [a-z]+ \| [a-z-]+ \| .* \|$/gm),
      ).toHaveLength(15);
    }, 60_000);

    it('every panel of every provisioned dashboard returns series from this Prometheus', async () => {
      const { kustomize, parseRendered } = await import('../../src/manifests/render.ts');
      const objects = parseRendered(await kustomize(join(MANIFESTS, 'overlays', 'kind')));
      const data = (
        objects.find(
          (o) => o.kind === 'ConfigMap' && o.metadata.name === 'grafana-dashboards',
        ) as unknown as {
          data: Record<string, string>;
        }
      ).data;
      const empty: string[] = [];
      let panels = 0;
      for (const text of Object.values(data)) {
        const d = JSON.parse(text) as {
          title: string;
          panels: { title: string; targets: { expr: string }[] }[];
        };
        for (const p of d.panels)
          for (const t of p.targets) {
            panels++;
            if ((await promQuery(prom.url, t.expr)).length === 0)
              empty.push(`${d.title} / ${p.title}: ${t.expr}`);
          }
      }
      expect(panels).toBeGreaterThanOrEqual(15);
      expect(empty).toEqual([]);
    });

    it('a lowered threshold makes the rule fire, and the alert reaches Alertmanager grouped by alertname, cluster, service', async () => {
      const firing = async () =>
        (await promQuery(prom.url, 'ALERTS{alertname="PostgresConnectionsHigh",alertstate="firing"}')).length;
      // with the stack's threshold (80 % of max_connections) it does not fire
      await new Promise((r) => setTimeout(r, 2500));
      expect(await firing()).toBe(0);

      const file = parse(config.rules['postgres.yml']!) as { groups: { rules: Record<string, string>[] }[] };
      const rule = file.groups[0]!.rules.find((r) => r.alert === 'PostgresConnectionsHigh')!;
      expect(rule.expr).toContain('0.8 *');
      rule.expr = rule.expr!.replace('0.8 *', '0.001 *'); // 0.2 of 200 connections: any connection
      rule.for = '0s';
      writeFileSync(join(prom.ruleDir, 'postgres.yml'), stringify(file));
      await prom.reload();

      const rulesNow = async () =>
        JSON.stringify(
          (
            (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as {
              data: { groups: { name: string; rules: unknown[] }[] };
            }
          ).data.groups.find((g) => g.name === 'postgres')?.rules[0],
        );
      await waitFor('the alert in Prometheus', async () => (await firing()) > 0, 20_000).catch(
        async (err) => {
          throw new Error(`${String(err)}; rule now: ${await rulesNow()}`);
        },
      );
      await waitFor(
        'the alert in Alertmanager',
        async () => {
          const res = await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22PostgresConnectionsHigh%22`);
          return ((await res.json()) as unknown[]).length > 0;
        },
        20_000,
      ).catch(async (err) => {
        const m = (await (await fetch(`${prom.url}/metrics`)).text())
          .split('\n')
          .filter((l) => l.startsWith('prometheus_notifications'));
        const all = await (await fetch(`${am.url}/api/v2/alerts`)).text();
        throw new Error(
          `${String(err)}; ${m.join(' | ')} ${prom.stderr().slice(-1500)}; am: ${all.slice(0, 500)}; ${am.stderr().slice(-1500)}`,
        );
      });
      const alerts = (await (
        await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22PostgresConnectionsHigh%22`)
      ).json()) as { labels: Record<string, string>; receivers: { name: string }[] }[];
      expect(alerts[0]!.labels).toMatchObject({
        alertname: 'PostgresConnectionsHigh',
        cluster: 'voiceassistant-infra', // Prometheus' external_labels
        service: 'postgres',
        pod: 'postgres-0',
        severity: 'warning',
      });
      expect(alerts[0]!.receivers.map((r) => r.name)).toEqual(['team']); // not critical: not oncall

      await waitFor(
        'the webhook notification',
        () =>
          webhook.received.some(
            (n) => (n.groupLabels as Record<string, string>)?.alertname === 'PostgresConnectionsHigh',
          ),
        20_000,
      );
      const note = webhook.received.find(
        (n) => (n.groupLabels as Record<string, string>)?.alertname === 'PostgresConnectionsHigh',
      )!;
      expect(note.groupLabels).toEqual({
        alertname: 'PostgresConnectionsHigh',
        cluster: 'voiceassistant-infra',
        service: 'postgres',
      });
      expect(note.receiver).toBe('team');
      expect(note.path).toBe('/alerts');
    }, 60_000);

    it('stopping the redis exporter fails exactly the checks of its metrics, naming the down target', async () => {
      await mon.exporters.redis.stop();
      await waitFor(
        'redis target down',
        async () => (await promQuery(prom.url, 'up{service="redis"} == 0')).length === 1,
        20_000,
      );
      const report = await verifyMetrics(2000);
      const failed = metricChecks(report).filter((r) => r.status === 'fail');
      expect(names(failed)).toEqual(['redis/metric-hit-rate', 'redis/metric-memory', 'redis/metric-qps']);
      for (const f of failed) expect(f.message).toContain('target redis-0 down (up == 0)');
      expect(verifySummary(report).split('### Seed metrics')[1]).toMatch(
        /\| ❌ \| redis \| memory \| not ready within 2\.0s .*target redis-0 down \(up == 0\)/,
      );
      expect(metricChecks(report).filter((r) => r.status === 'pass')).toHaveLength(12);
    }, 60_000);
  },
);

describeWithServices(
  'monitoring: a broken rule expression is reported by validate at its line, and promtool agrees',
  ['prometheus'],
  () => {
    it('every rule file of the stack passes promtool check rules', async () => {
      const cfg = await renderedMonitoring('kind');
      const dir = tempDir('rules');
      const files = Object.entries(cfg.rules).map(([name, text]) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      });
      const out = execFileSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
      expect(out.match(/SUCCESS/g)).toHaveLength(files.length);
    });

    it('an unclosed parenthesis: validate names monitoring-rules.yaml:LINE; promtool exits 1 on the same rule', async () => {
      const { brokenCopy, lineOf } = await import('../unit/promql-helpers.ts');
      const broken = brokenCopy(
        'base/monitoring-rules.yaml',
        '(pg_stat_activity_max_tx_duration{state="active"}) > 60',
        '(pg_stat_activity_max_tx_duration{state="active"} > 60',
      );
      try {
        const { validateStack } = await import('../../src/manifests/validate.ts');
        const result = await validateStack({ catalog: broken.catalog });
        const promql = result.problems.filter((p) => p.rule === 'promql');
        // the other problems, to tell a missed rule from a validate run stopped by something else
        expect(promql, JSON.stringify(result.problems.filter((p) => p.severity === 'error'))).toHaveLength(1);
        expect(promql[0]!.file).toMatch(/base\/monitoring-rules\.yaml$/);
        expect(promql[0]!.line).toBe(
          lineOf(broken.file, 'pg_stat_activity_max_tx_duration{state="active"} > 60'),
        );
        expect(promql[0]!.message).toContain('PostgresSlowQueries');

        const cfg = parse(
          execFileSync('kubectl', ['kustomize', join(broken.dir, 'overlays', 'kind')], { encoding: 'utf8' })
            .split(/^---$/m)
            .find((d) => d.includes('name: prometheus-rules'))!,
        ) as { data: Record<string, string> };
        const file = join(broken.dir, 'postgres.yml');
        writeFileSync(file, cfg.data['postgres.yml']!);
        const promtool = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
        expect(promtool.status).toBe(1);
        expect(`${promtool.stdout}${promtool.stderr}`).toContain('PostgresSlowQueries');
      } finally {
        broken.cleanup();
      }
    }, 60_000);
  },
);
