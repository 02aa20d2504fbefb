/**
 * The generated NetworkPolicies (manifests/base/network-policies.yaml) on the real rendered stack
 * (kubectl kustomize, both sizing profiles): the committed file is what the catalog implies, and
 * evaluating it over the rendered pods gives exactly the catalog's edges.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { expectedPolicies } from '../../scripts/gen-network-policies.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { Stack } from '../../src/catalog/types.ts';
import { type KubeObject, renderSizing } from '../../src/manifests/render.ts';
import { reachability } from '../../src/security/matrix.ts';
import { networkProbes } from '../../src/security/probes.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const stack = loadStack('manifests/stack.yaml');
const ports = (r: ReturnType<typeof reachability>, from: string, to: string) =>
  r.cells.find((c) => c.from === from && c.to === to)?.ports;

describeWithKubectl('generated NetworkPolicies (real kubectl kustomize)', () => {
  const rendered: Record<string, KubeObject[]> = {};
  beforeAll(async () => {
    for (const p of ['kind', 'production']) rendered[p] = await renderSizing(stack, p);
  });

  it('the committed file is what npm run gen:network-policies writes (no drift)', async () => {
    const { file, text } = await expectedPolicies('manifests/stack.yaml');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  for (const profile of ['kind', 'production'])
    it(`${profile}: every dependsOn edge is allowed, nothing else is (no violation)`, () => {
      const r = reachability(stack, rendered[profile]!);
      expect(r.violations).toEqual([]);
      expect(r.policies).toBe(Object.keys(stack.components).length + 1);
      // the edges of the catalog, on the catalog's Service ports
      expect(ports(r, 'nacos', 'nacos-mysql')).toEqual(['3306']);
      expect(ports(r, 'milvus', 'etcd')).toEqual(['2379']);
      expect(ports(r, 'kafka-ui', 'kafka')).toEqual(['9092']);
      expect(ports(r, 'jaeger', 'elasticsearch')).toEqual(['9200']);
      // a catalog connection on its own ports only: Grafana's Jaeger datasource, not the collector
      expect(ports(r, 'grafana', 'jaeger')).toEqual(['16686']);
      expect(ports(r, 'ns/voiceassistant', 'jaeger')).toEqual(['4317', '4318', '16686']);
      // the metrics scraper on the annotated port only; no reverse edges; nothing from outside
      expect(ports(r, 'prometheus', 'postgres')).toEqual(['9187']);
      expect(ports(r, 'nacos-mysql', 'nacos')).toBeUndefined();
      expect(ports(r, 'kafka-ui', 'postgres')).toBeUndefined();
      expect(ports(r, '(unlabelled pod)', 'redis')).toBeUndefined();
      expect(ports(r, 'ns/(other)', 'postgres')).toBeUndefined();
      expect(ports(r, 'ns/voiceassistant', 'postgres')).toEqual(['5432']);
      // members of a cluster reach each other on every port (Nacos raft, Kafka controller)
      expect(ports(r, 'nacos', 'nacos')).toContain('*');
    });

  it('the CronJob no catalog workload names (Jaeger index cleaner) is admitted to Elasticsearch as jaeger', () => {
    const r = reachability(stack, rendered.kind!);
    const cleaner = r.model.pods.find((p) => p.id === 'CronJob/jaeger-es-index-cleaner');
    expect(cleaner?.component).toBe('jaeger');
  });

  it('the PR pipeline probes: a deployed dependsOn edge allowed, an unlabelled pod on the same Service port denied', () => {
    const [allowed, denied] = networkProbes(stack, rendered.kind!, ['nacos-mysql', 'nacos', 'redis']);
    expect(allowed).toMatchObject({ expect: 'allowed', as: 'nacos', host: 'nacos-mysql', port: 3306 });
    expect(allowed!.labels).toContain('app.kubernetes.io/name=nacos');
    expect(denied).toMatchObject({ expect: 'denied', labels: '', host: 'nacos-mysql', port: 3306 });
    // a lone component: its own pods are the allowed side
    expect(allowed).toMatchObject({ pod: '', podPort: 0 });
    // a lone component: its own pods are the allowed side, dialled by pod IP on the container port,
    // since a probe pod with redis's labels is itself an endpoint of Service redis (it has no
    // readiness probe, so it is ready once it runs: docs "Pod Lifecycle", container probes)
    const [own] = networkProbes(stack, rendered.kind!, ['redis']);
    expect(own).toMatchObject({ as: 'redis', host: 'redis', port: 6379, podPort: 6379 });
    expect(own!.pod).toBe(own!.labels);
    // without policies nothing is refused: no pair can be claimed
    expect(
      networkProbes(
        stack,
        rendered.kind!.filter((o) => o.kind !== 'NetworkPolicy'),
        ['redis'],
      ),
    ).toEqual([]);
  });

  const withoutEdge = (s: Stack, from: string, to: string): Stack => {
    const copy = structuredClone(s);
    copy.components[from]!.dependsOn = copy.components[from]!.dependsOn.filter((d) => d !== to);
    return copy;
  };

  it('a policy admitting an edge the catalog lacks is reported at that NetworkPolicy rule', () => {
    const r = reachability(withoutEdge(stack, 'milvus', 'etcd'), rendered.kind!);
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(
        /^milvus may connect to etcd \(StatefulSet\/etcd\) on port 2379: NetworkPolicy etcd-ingress admits it/,
      ),
    ]);
    const at = r.violations[0]!.at;
    expect('object' in at && at.object.metadata.name).toBe('etcd-ingress');
  });

  it('a catalog edge the policies do not allow is reported at its dependsOn entry', () => {
    const objects = rendered.kind!.filter(
      (o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'nacos-mysql-ingress'),
    );
    // without its own policy nacos-mysql is still isolated by default-deny: nacos is cut off
    const r = reachability(stack, objects);
    const missing = r.violations.find((v) => v.message.startsWith('dependsOn edge nacos → nacos-mysql'));
    expect(missing?.at).toEqual({ catalog: ['components', 'nacos', 'dependsOn', 0] });
  });

  it('a pod whose labels no policy selects (default-deny removed) is reported: everything reaches it', () => {
    const objects = rendered.kind!.filter(
      (o) => o.kind !== 'NetworkPolicy' || o.metadata.name !== 'default-deny-ingress',
    );
    const relabelled = objects.map((o) =>
      o.kind === 'StatefulSet' && o.metadata.name === 'redis'
        ? (() => {
            const c = structuredClone(o) as KubeObject & {
              spec: { template: { metadata: { labels: Record<string, string> } } };
            };
            c.spec.template.metadata.labels['app.kubernetes.io/name'] = 'redis-renamed';
            return c;
          })()
        : o,
    );
    const r = reachability(stack, relabelled);
    expect(r.violations.some((v) => v.message.startsWith('no NetworkPolicy selects StatefulSet/redis'))).toBe(
      true,
    );
  });

  it('an egress default-deny would cut DNS: reported', () => {
    const denyEgress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-egress', namespace: stack.namespace },
      spec: { podSelector: {}, policyTypes: ['Egress'] },
    };
    const r = reachability(stack, [...rendered.kind!, denyEgress]);
    expect(r.violations.some((v) => /cannot reach cluster DNS/.test(v.message))).toBe(true);
  });
});

it('the PR pipeline asserts the policies on kind: probes chosen by scripts/network-probes.ts, dialled by busybox nc after deploy and verify', async () => {
  const { parse } = await import('yaml');
  const wf = parse(readFileSync('.github/workflows/reusable-validate-deploy.yml', 'utf8')) as {
    jobs: { kind: { steps: { name?: string; run?: string; uses?: string }[] } };
  };
  const steps = wf.jobs.kind.steps;
  const at = (re: RegExp) => steps.findIndex((s) => re.test(s.name ?? ''));
  const probe = steps[at(/^NetworkPolicies allow one catalog edge/)]!;
  expect(probe.run).toContain('node scripts/network-probes.ts --components "$DEPLOYED"');
  expect(probe.run).toMatch(
    /run "netpol-probe-\$n-\$attempt" --rm -i --restart=Never\s+--image=busybox:1\.37\.0/,
  );
  expect(probe.run).toContain('nc -zv -w 3 $host $port');
  // a refusal is only credited when nc itself ran and failed (its exit status is printed)
  expect(probe.run).toContain('nc-exit=');
  expect(at(/^NetworkPolicies allow/)).toBeGreaterThan(at(/^Verify$/));
  expect(at(/^Verify$/)).toBeGreaterThan(at(/^Deploy on kind$/));
});
