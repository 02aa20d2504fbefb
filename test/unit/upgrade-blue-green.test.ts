import { beforeAll, describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/load.ts';
import type { Stack } from '../../src/catalog/types.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderChecked } from '../../src/manifests/validate.ts';
import { type Obj, selectorMatches } from '../../src/plan/conditions.ts';
import {
  blueHash,
  greenComponent,
  greenService,
  greenWorkload,
  pinned,
  routesTo,
  SLOT_LABEL,
  servicesOf,
  servicesToCopy,
  stateOf,
  switched,
  withState,
} from '../../src/upgrade/blue-green.ts';

let stack: Stack;
let rendered: KubeObject[];
beforeAll(async () => {
  stack = loadStack('manifests/stack.yaml');
  rendered = await renderChecked(stack.file, 'kind');
}, 60_000);
const get = (kind: string, name: string) =>
  rendered.find((o) => o.kind === kind && o.metadata.name === name) as KubeObject & Obj;

/** The labels of a pod of `workload`, as its controller creates it (template labels + the pin label). */
const podLabels = (workload: Obj, pin: [string, string]) => ({
  ...workload.spec.template.metadata.labels,
  [pin[0]]: pin[1],
});

describe('blue-green copies (pure), on the real rendered Grafana and Jaeger', () => {
  it('green: its own name, the slot label on it, its selector and its pods; every blue pod label kept', () => {
    const blue = get('Deployment', 'grafana');
    const green = greenWorkload(blue, new Set()) as Obj;
    expect(green.metadata.name).toBe('grafana-green');
    expect(green.spec.selector.matchLabels).toEqual({
      ...blue.spec.selector.matchLabels,
      [SLOT_LABEL]: 'green',
    });
    expect(green.spec.template.metadata.labels).toEqual({
      ...blue.spec.template.metadata.labels,
      [SLOT_LABEL]: 'green',
    });
    // blue's (immutable) selector still matches green's pods, so the main Service must be pinned first
    expect(selectorMatches(blue.spec.selector, green.spec.template.metadata.labels)).toBe(true);
    expect(selectorMatches(green.spec.selector, blue.spec.template.metadata.labels)).toBe(false);
  });

  it('pin → green Service → switch: the main Service reaches blue only, then green only', () => {
    const blue = get('Deployment', 'grafana');
    const [svc] = servicesOf(stack.components.grafana!, blue, rendered);
    expect(svc!.metadata.name).toBe('grafana');
    const green = greenWorkload(blue, new Set()) as Obj;
    const bluePod = podLabels(blue, ['pod-template-hash', '5d8f7c']);
    const greenPod = podLabels(green, ['pod-template-hash', '77aa01']);
    const sel = (s: KubeObject) => ({ matchLabels: (s as Obj).spec.selector });
    const pin = pinned(svc!, 'Deployment', '5d8f7c');
    expect([selectorMatches(sel(pin), bluePod), selectorMatches(sel(pin), greenPod)]).toEqual([true, false]);
    const own = greenService(svc!);
    expect(own.metadata.name).toBe('grafana-green');
    expect([selectorMatches(sel(own), bluePod), selectorMatches(sel(own), greenPod)]).toEqual([false, true]);
    const sw = switched(svc!);
    expect([selectorMatches(sel(sw), bluePod), selectorMatches(sel(sw), greenPod)]).toEqual([false, true]);
    // the manifest's own selector (after finishing) reaches both, until green is deleted
    expect([selectorMatches(sel(svc!), bluePod), selectorMatches(sel(svc!), greenPod)]).toEqual([true, true]);
  });

  it('Jaeger: both Services that route to its pods are found and switched', () => {
    const blue = get('Deployment', 'jaeger');
    const names = servicesOf(stack.components.jaeger!, blue, rendered).map((s) => s.metadata.name);
    expect(names.sort()).toEqual(['jaeger-collector', 'jaeger-query']);
  });

  it('a Service without a selector routes to nothing; an allocated clusterIP is not copied, headless stays headless', () => {
    expect(routesTo({ spec: {} }, get('Deployment', 'grafana'))).toBe(false);
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'x' },
      spec: {
        clusterIP: '10.96.0.12',
        clusterIPs: ['10.96.0.12'],
        selector: { a: 'b' },
        ports: [{ port: 1, nodePort: 30001 }],
      },
    } as KubeObject;
    const g = greenService(svc) as Obj;
    expect(g.spec.clusterIP).toBeUndefined();
    expect(g.spec.clusterIPs).toBeUndefined();
    expect(g.spec.ports[0].nodePort).toBeUndefined();
    const headless = greenService({
      ...svc,
      spec: { clusterIP: 'None', selector: { a: 'b' } },
    } as KubeObject) as Obj;
    expect(headless.spec.clusterIP).toBe('None');
  });

  it('PostgreSQL green: serviceName, endpoints, the exec check and the backup pod follow green', () => {
    const blue = get('StatefulSet', 'postgres');
    const svcNames = new Set(
      servicesToCopy(stack.components.postgres!, blue, rendered).map((s) => s.metadata.name),
    );
    // the catalog's Service and the governing headless one (the pods' DNS names)
    expect([...svcNames].sort()).toEqual(['postgres', blue.spec.serviceName].sort());
    const green = greenWorkload(blue, svcNames) as Obj;
    expect(green.spec.serviceName).toBe(`${blue.spec.serviceName}-green`);
    const c = greenComponent(stack.components.postgres!, svcNames, new Set(['postgres']));
    expect(c.endpoints.find((e) => e.name === 'sql')!.service).toBe('postgres-green');
    expect(c.endpoints.find((e) => e.name === 'metrics')!.service).toBe('prometheus');
    expect(c.checks.find((x) => x.name === 'seed-psql')!.pod).toBe('postgres-green-0');
    // green's own checks only: the metrics checks go through Prometheus, they run after the switch
    expect(c.checks.map((x) => x.name)).toEqual(['version', 'seed-databases', 'seed-psql']);
    expect(stack.components.postgres!.checks.some((x) => x.endpoint === 'metrics')).toBe(true);
    expect(c.backups[0]!.pod).toBe('postgres-green-0');
    expect(c.workloads).toEqual([{ kind: 'StatefulSet', name: 'postgres-green' }]);
  });

  it('blue pin values: a Deployment’s newest ReplicaSet hash, a StatefulSet’s current revision', () => {
    const rs = (rev: number, hash: string) => ({
      metadata: {
        annotations: { 'deployment.kubernetes.io/revision': String(rev) },
        labels: { 'pod-template-hash': hash },
      },
    });
    expect(blueHash({ kind: 'Deployment' }, [rs(2, 'bbb'), rs(10, 'ccc'), rs(9, 'aaa')])).toBe('ccc');
    expect(blueHash({ kind: 'StatefulSet', status: { currentRevision: 'postgres-6b5' } }, [])).toBe(
      'postgres-6b5',
    );
  });

  it('the switch state round-trips through the Service annotation; garbage is no state', () => {
    const svc = get('Service', 'grafana');
    const state = {
      component: 'grafana',
      workload: { kind: 'Deployment', name: 'grafana' },
      blue: '5d8f7c',
      switchedAt: '2026-12-01T10:00:00.000Z',
      keepUntil: '2026-12-01T11:00:00.000Z',
    };
    expect(stateOf(withState(svc, state))).toEqual(state);
    expect(stateOf(svc)).toBeUndefined();
    expect(
      stateOf({ metadata: { annotations: { 'kindling.dev/blue-green': '{not json' } } }),
    ).toBeUndefined();
  });
});
