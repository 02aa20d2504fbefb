import { join, resolve } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadStack } from '../../src/catalog/index.ts';
import { type KubeObject, kustomize, parseRendered } from '../../src/manifests/render.ts';
import { containerPorts, list, podSpec, rec } from './manifests-fixture.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const MANIFESTS = resolve(import.meta.dirname, '../../manifests');
const stack = loadStack(join(MANIFESTS, 'stack.yaml'));

/** The scrape targets the catalog's metrics checks expect, by the `service` label of `targets: up{service="…"}`. */
const metricServices = [
  ...new Set(
    Object.values(stack.components).flatMap((c) =>
      c.checks
        .filter((k) => k.type === 'metrics')
        .map((k) => /service="([^"]+)"/.exec(String(k.targets))?.[1])
        .filter((s): s is string => s !== undefined),
    ),
  ),
].sort();

it('every metrics check names the scrape target it needs', () => {
  const checks = Object.values(stack.components).flatMap((c) => c.checks.filter((k) => k.type === 'metrics'));
  expect(checks.length).toBeGreaterThanOrEqual(15);
  for (const k of checks) expect(String(k.targets), k.name).toMatch(/^up\{service="[a-z-]+"\}$/);
  expect(metricServices).toEqual([
    'clickhouse',
    'elasticsearch-exporter',
    'kafka-exporter',
    'milvus',
    'postgres',
    'redis',
  ]);
});

for (const profile of ['kind', 'production']) {
  describeWithKubectl(`the seed's metrics are collected on the ${profile} sizing`, () => {
    let objects: KubeObject[];
    beforeAll(async () => {
      objects = parseRendered(await kustomize(join(MANIFESTS, 'overlays', profile)));
    });

    it("Prometheus scrapes every 15 s (the seed's interval) and loads the rule files it is given", () => {
      const cm = rec(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config'));
      const prom = parse(String(rec(cm.data)['prometheus.yml'])) as {
        global: Record<string, string>;
        rule_files: string[];
      };
      expect(prom.global.scrape_interval).toBe('15s');
      expect(prom.global.evaluation_interval).toBe('15s');
      const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'prometheus')!;
      const spec = podSpec(sts);
      const mounts = list(list(spec.containers).find((c) => c.name === 'prometheus')!.volumeMounts);
      const rulesVolume = list(spec.volumes).find((v) => rec(v.configMap).name === 'prometheus-rules')!;
      const at = mounts.find((m) => m.name === rulesVolume.name)!.mountPath;
      expect(prom.rule_files).toContain(`${at}/*.yml`);
    });

    it.each(metricServices)('Service %s is annotated for scraping on a port its pods serve', (name) => {
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === name)!;
      expect(svc, `Service ${name}`).toBeDefined();
      const a = svc.metadata.annotations ?? {};
      expect(a['prometheus.io/scrape']).toBe('true');
      const port = Number(a['prometheus.io/port']);
      const selector = rec(rec(svc.spec).selector) as Record<string, string>;
      const pods = objects.filter((o) => {
        const labels = rec(rec(rec(rec(o.spec).template).metadata).labels);
        return (
          Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)
        );
      });
      expect(pods.length, `workloads behind ${name}`).toBeGreaterThan(0);
      const served = pods.flatMap((o) => containerPorts(podSpec(o)).map((p) => p.number));
      expect(served, `${name} pods listen on ${port}`).toContain(port);
    });
  });
}
