/**
 * What each sizing profile asks of a cluster, computed from the rendered manifests: the kind profile
 * must fit a GitHub-hosted runner next to the kind control plane, and manifests/README.md must show
 * the current numbers.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateTables, renderAll, withTables } from '../../scripts/manifests-readme.ts';
import {
  parseQuantity,
  podRequests,
  sizeByComponent,
  totalRequests,
} from '../../scripts/manifests-sizing.ts';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import type { KubeObject } from '../../src/manifests/render.ts';

const stack = loadStack('manifests/stack.yaml');
const GiB = 2 ** 30;

/** ubuntu-latest: 4 vCPU, 16 GiB RAM (of which ~14 GiB usable once the runner's own services run). */
const RUNNER = { cpu: 4, memory: 14 * GiB };
/** kind's control plane (apiserver, etcd, controller-manager, scheduler, CoreDNS x2, kindnet,
 *  local-path provisioner) requests about 0.95 CPU; keep 1 CPU and 2 GiB for it. */
const CONTROL_PLANE = { cpu: 1, memory: 2 * GiB };

let rendered: Awaited<ReturnType<typeof renderAll>>;
beforeAll(async () => {
  rendered = await renderAll(stack);
}, 60_000);

describe('quantities and pod requests', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('250m')).toBe(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('1Gi')).toBe(GiB);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(() => parseQuantity('1 GB')).toThrow(/quantity/);
  });

  it('counts init containers the way the scheduler does', () => {
    const c = (cpu: string, memory: string, extra: object = {}) => ({
      name: 'x',
      resources: { requests: { cpu, memory } },
      ...extra,
    });
    // app containers sum; a bigger init container wins per resource
    expect(
      podRequests({ containers: [c('100m', '64Mi'), c('50m', '64Mi')], initContainers: [c('1', '32Mi')] }),
    ).toEqual({
      cpu: 1,
      memory: 128 * 2 ** 20,
    });
    // a native sidecar (restartPolicy Always) runs beside the app containers
    expect(
      podRequests({
        containers: [c('100m', '64Mi')],
        initContainers: [c('10m', '16Mi', { restartPolicy: 'Always' })],
      }),
    ).toEqual({ cpu: 0.11, memory: 80 * 2 ** 20 });
  });

  it('multiplies by replicas and adds volume claim templates per replica', () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'k', labels: { 'app.kubernetes.io/name': 'k' } },
      spec: {
        replicas: 3,
        template: {
          spec: { containers: [{ name: 'k', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] },
        },
        volumeClaimTemplates: [{ spec: { resources: { requests: { storage: '10Gi' } } } }],
      },
    } as KubeObject;
    expect(sizeByComponent([sts]).get('k')).toEqual({
      component: 'k',
      replicas: 3,
      requests: { cpu: 1.5, memory: 3 * GiB },
      storage: 30 * GiB,
    });
  });
});

describe('the kind profile on a GitHub-hosted runner', () => {
  it("fits the full stack's requests beside the kind control plane", () => {
    const full = resolveSelection(stack, 'full').map((c) => c.name);
    expect(full.length).toBe(Object.keys(stack.components).length);
    const sizing = sizeByComponent(rendered.kind);
    for (const c of full) expect(sizing.get(c)?.replicas, c).toBeGreaterThan(0);
    const t = totalRequests(sizing, full);
    expect(t.cpu + CONTROL_PLANE.cpu).toBeLessThanOrEqual(RUNNER.cpu * 0.8);
    expect(t.memory + CONTROL_PLANE.memory).toBeLessThanOrEqual(RUNNER.memory * 0.8);
  });

  it('keeps every memory limit sum within the runner, so limits cannot overcommit it', () => {
    let limits = 0;
    for (const o of rendered.kind.filter((x) => ['StatefulSet', 'Deployment'].includes(x.kind))) {
      const spec = (
        o.spec as { template: { spec: { containers: { resources?: { limits?: { memory?: string } } }[] } } }
      ).template.spec;
      for (const c of spec.containers) limits += parseQuantity(c.resources?.limits?.memory ?? 0);
    }
    expect(limits + CONTROL_PLANE.memory).toBeLessThanOrEqual(RUNNER.memory);
  });

  it('asks less than the production profile for every component', () => {
    const kind = sizeByComponent(rendered.kind);
    const prod = sizeByComponent(rendered.production);
    for (const [name, k] of kind) {
      const p = prod.get(name)!;
      expect(k.requests.cpu, name).toBeLessThanOrEqual(p.requests.cpu);
      expect(k.requests.memory, name).toBeLessThanOrEqual(p.requests.memory);
      expect(k.storage, name).toBeLessThanOrEqual(p.storage);
    }
  });
});

describe('manifests/README.md', () => {
  it('shows the tables generated from the current manifests (npm run docs:manifests)', () => {
    const readme = readFileSync(resolve(stack.dir, 'README.md'), 'utf8');
    expect(withTables(readme, generateTables(stack, rendered))).toBe(readme);
  });

  it('reports drift when a number changes', () => {
    const readme = readFileSync(resolve(stack.dir, 'README.md'), 'utf8');
    const tables = generateTables(stack, rendered);
    expect(tables).toMatch(/\| full \| 17 \|/);
    const changed = withTables(readme, tables.replace('| full |', '| full (stale) |'));
    expect(changed).not.toBe(readme);
  });
});

// Issue #11 item 6. Every in-pod check is an extra process inside the pod's memory limit; a Kafka tool
// is a JVM that takes the container's KAFKA_HEAP_OPTS (the broker's heap) unless its command sets its
// own (apache/kafka bin/kafka-run-class.sh "Memory options"). All checks may run at once (verify's pool).
// NON_HEAP is an allowance per JVM (metaspace, code cache, threads), not a measurement.
const NON_HEAP = 128 * 2 ** 20;
const xmx = (opts: string): number => {
  const m = /-Xmx(\d+)([kmg])/i.exec(opts);
  if (!m) throw new Error(`no -Xmx in "${opts}"`);
  return Number(m[1]) * 2 ** { k: 10, m: 20, g: 30 }[m[2]!.toLowerCase() as 'k' | 'm' | 'g'];
};
describe("Kafka's in-pod checks fit the broker's memory limit (both sizings)", () => {
  const kafka = stack.components.kafka!;
  const tools = kafka.checks.filter((c) => c.type === 'exec');
  it('runs every in-pod tool with its own small heap, never the broker heap', () => {
    expect(tools.length).toBeGreaterThan(0);
    for (const c of tools) {
      const heap = (c.command as string[]).find((a) => a.startsWith('KAFKA_HEAP_OPTS='));
      expect(heap, `${c.name}: ${(c.command as string[]).join(' ')}`).toBeDefined();
      expect(xmx(heap!)).toBeLessThanOrEqual(64 * 2 ** 20);
    }
  });
  for (const profile of ['kind', 'production'] as const)
    it(`${profile}: limit ≥ broker heap + every tool heap + a non-heap allowance per JVM`, () => {
      const objects = rendered[profile];
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kafka-config')!;
      const broker = xmx(String((config.data as Record<string, string>).KAFKA_HEAP_OPTS));
      const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'kafka')!;
      const container = (
        sts.spec as {
          template: { spec: { containers: { name: string; resources: { limits: { memory: string } } }[] } };
        }
      ).template.spec.containers.find((c) => c.name === 'kafka')!;
      const limit = parseQuantity(container.resources.limits.memory);
      const toolHeaps = tools.map((c) =>
        xmx((c.command as string[]).find((a) => a.startsWith('KAFKA_HEAP_OPTS='))!),
      );
      const need = broker + toolHeaps.reduce((a, b) => a + b, 0) + (1 + tools.length) * NON_HEAP;
      expect(
        limit,
        `limit ${container.resources.limits.memory} for ${need / 2 ** 20} MiB`,
      ).toBeGreaterThanOrEqual(need);
    });
});
