/**
 * Issue #11 item 7: the scrape config and the `targets-up` check agree on "every target up". Prometheus'
 * EndpointSlice discovery also returns not-ready endpoints, with
 * `__meta_kubernetes_endpointslice_endpoint_conditions_ready="false"` (prometheus/prometheus
 * discovery/kubernetes/endpointslice.go; docs configuration.md <kubernetes_sd_config>), so the rendered
 * relabel rules must drop them. Checked with the real Prometheus 2.42 and promtool: Debian builds them
 * without Kubernetes discovery, so static_configs carrying the same discovery labels stand in for
 * kubernetes_sd_configs; the relabel_configs are the rendered ones, unchanged.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadStack } from '../../src/catalog/index.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { describeWithServices, freePort, tempDir, waitFor } from '../harness/services.ts';

const stack = loadStack('manifests/stack.yaml');
type Job = { job_name: string; relabel_configs: unknown[]; kubernetes_sd_configs?: unknown };

async function renderedJob(profile: string): Promise<Job> {
  const objects = await renderSizing(stack, profile);
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config');
  const config = parse((cm!.data as Record<string, string>)['prometheus.yml']!) as { scrape_configs: Job[] };
  const job = config.scrape_configs.find((j) => j.kubernetes_sd_configs);
  if (!job) throw new Error('no kubernetes_sd_configs scrape job in prometheus.yml');
  return job;
}

/** Two endpoints of one annotated Service as EndpointSlice discovery labels them: one ready, one not. */
function discovered(port: number, ready: boolean, pod: string) {
  return {
    targets: [`127.0.0.1:${port}`],
    labels: {
      __meta_kubernetes_namespace: stack.namespace,
      __meta_kubernetes_service_name: 'svc',
      __meta_kubernetes_pod_name: pod,
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_service_annotation_prometheus_io_port: String(port),
      __meta_kubernetes_endpointslice_endpoint_conditions_ready: String(ready),
    },
  };
}

describeWithServices(
  'Prometheus scrapes only ready endpoints (rendered relabel rules, real Prometheus)',
  ['prometheus'],
  () => {
    const stops: (() => void)[] = [];
    afterAll(() => {
      for (const s of stops) s();
    });
    let jobs: Record<string, Job>;
    beforeAll(async () => {
      jobs = { kind: await renderedJob('kind'), production: await renderedJob('production') };
    }, 60_000);

    for (const profile of ['kind', 'production'])
      it(`${profile}: the not-ready endpoint is dropped by relabeling, the ready one is a target`, async () => {
        const dir = tempDir('prom-relabel');
        const port = await freePort();
        const { kubernetes_sd_configs: _, ...job } = jobs[profile]!;
        const config = {
          global: { scrape_interval: '1h' },
          scrape_configs: [
            { ...job, static_configs: [discovered(port, true, 'svc-0'), discovered(port, false, 'svc-1')] },
          ],
        };
        const file = join(dir, 'prometheus.yml');
        writeFileSync(file, stringify(config));
        execFileSync('promtool', ['check', 'config', file], { stdio: 'pipe' }); // throws on a bad rule
        const child = spawn(
          'prometheus',
          [
            `--config.file=${file}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          { stdio: 'ignore' },
        );
        stops.push(() => child.kill('SIGKILL'));
        type Targets = {
          data: {
            activeTargets: { labels: Record<string, string> }[];
            droppedTargets: { discoveredLabels: Record<string, string> }[];
          };
        };
        let targets: Targets | undefined;
        await waitFor('prometheus targets', async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets`, {
            signal: AbortSignal.timeout(2000),
          });
          if (!res.ok) return false;
          targets = (await res.json()) as Targets;
          return targets.data.activeTargets.length + targets.data.droppedTargets.length >= 2;
        });
        expect(targets!.data.activeTargets.map((t) => t.labels.pod)).toEqual(['svc-0']);
        expect(
          targets!.data.droppedTargets.map(
            (t) => t.discoveredLabels.__meta_kubernetes_endpointslice_endpoint_conditions_ready,
          ),
        ).toEqual(['false']);
      });
  },
);
