import { join, resolve } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadStack } from '../../src/catalog/index.ts';
import { promqlErrors } from '../../src/manifests/promql.ts';
import { type KubeObject, kustomize, parseRendered } from '../../src/manifests/render.ts';
import { judge } from '../../src/probes/http.ts';
import { list, podSpec, rec } from './manifests-fixture.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const MANIFESTS = resolve(import.meta.dirname, '../../manifests');
const stack = loadStack(join(MANIFESTS, 'stack.yaml'));

interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: {
    title: string;
    datasource: { uid: string };
    targets: { expr: string; datasource: { uid: string } }[];
  }[];
}

for (const profile of ['kind', 'production']) {
  describeWithKubectl(`Grafana dashboards as provisioned (${profile} profile)`, () => {
    let objects: KubeObject[];
    const get = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name)!;
    const dashboards = (): Dashboard[] =>
      Object.entries(rec(rec(get('ConfigMap', 'grafana-dashboards')).data))
        .filter(([k]) => k.endsWith('.json'))
        .map(([, v]) => JSON.parse(String(v)) as Dashboard);

    beforeAll(async () => {
      objects = parseRendered(await kustomize(join(MANIFESTS, 'overlays', profile)));
    });

    it('one dashboard per service of the seed metrics, each panel on the provisioned Prometheus data source', () => {
      const ds = parse(
        String(rec(rec(get('ConfigMap', 'grafana-datasources')).data)['datasources.yaml']),
      ) as {
        datasources: { uid: string; type: string }[];
      };
      const prometheusUid = ds.datasources.find((d) => d.type === 'prometheus')!.uid;
      const all = dashboards();
      expect(all.map((d) => d.title).sort()).toEqual([
        'ClickHouse',
        'Elasticsearch',
        'Kafka',
        'Milvus',
        'PostgreSQL',
        'Redis',
      ]);
      for (const d of all) {
        expect(d.panels.length, d.title).toBeGreaterThan(0);
        for (const p of d.panels) {
          expect(p.datasource.uid, `${d.title} / ${p.title}`).toBe(prometheusUid);
          for (const t of p.targets)
            expect(promqlErrors(t.expr), `${d.title} / ${p.title}: ${t.expr}`).toEqual([]);
        }
      }
    });

    it("Grafana's file provider reads the directory the dashboards are mounted at", () => {
      const provider = parse(
        String(rec(rec(get('ConfigMap', 'grafana-dashboard-provider')).data)['dashboards.yaml']),
      ) as { providers: { options: { path: string } }[] };
      const spec = podSpec(get('Deployment', 'grafana'));
      const grafana = list(spec.containers).find((c) => c.name === 'grafana')!;
      const mounts = list(grafana.volumeMounts);
      const volumes = list(spec.volumes);
      const mountOf = (configMap: string) => {
        const v = volumes.find((x) => rec(x.configMap).name === configMap)!;
        return mounts.find((m) => m.name === v.name)?.mountPath;
      };
      expect(mountOf('grafana-dashboard-provider')).toBe('/etc/grafana/provisioning/dashboards');
      expect(provider.providers.map((p) => p.options.path)).toEqual([mountOf('grafana-dashboards')]);
    });

    it('the catalog check grafana/seed-dashboards passes on the search answer for these dashboards, and names a missing one', () => {
      const check = stack.components.grafana!.checks.find((c) => c.name === 'seed-dashboards')!;
      // the shape of Grafana's /api/search answer (HTTP API docs, "Folder/Dashboard Search")
      const answer = (ds: Dashboard[]) =>
        JSON.stringify(
          ds.map((d, i) => ({
            id: i + 1,
            uid: d.uid,
            title: d.title,
            type: 'dash-db',
            tags: d.tags,
            folderTitle: 'voiceassistant-infra',
          })),
        );
      expect(judge(check, 200, answer(dashboards())).kind).toBe('pass');
      const missing = judge(check, 200, answer(dashboards().filter((d) => d.title !== 'Kafka')));
      expect(missing.kind).toBe('fail');
      expect(dashboards().every((d) => d.tags.includes('seed-metrics'))).toBe(true);
    });
  });
}
