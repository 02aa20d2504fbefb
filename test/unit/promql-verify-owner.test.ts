import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyStack } from '../../src/app/verify.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { Component, Endpoint } from '../../src/catalog/types.ts';
import type { Cluster } from '../../src/kube/types.ts';
import { absentOwner } from '../../src/probes/endpoint-owner.ts';
import type { Target } from '../../src/targets/types.ts';

const stack = loadStack(join(resolve(import.meta.dirname, '../../manifests'), 'stack.yaml'));
const c = (name: string) => stack.components[name]!;
const metrics = (name: string) => c(name).endpoints.find((e) => e.name === 'metrics')!;

describe('checks through another component’s Service (metrics → prometheus)', () => {
  it('name the owner when it is not verified in the run, nothing when it is or the Service is the component’s own', () => {
    expect(absentOwner(stack, c('postgres'), metrics('postgres'), [c('postgres')])).toBe('prometheus');
    expect(
      absentOwner(stack, c('postgres'), metrics('postgres'), [c('postgres'), c('prometheus')]),
    ).toBeUndefined();
    expect(absentOwner(stack, c('postgres'), c('postgres').endpoints[0]!, [c('postgres')])).toBeUndefined();
  });

  it('on target kube, verifying postgres alone reports its metrics checks as not checked at once, not after a deadline', async () => {
    const resolved: string[] = [];
    // a kube target whose every way in is "not there yet": any check that tries it waits its deadline
    const access: Target = {
      kind: 'kube',
      namespace: stack.namespace,
      runner: {} as Target['runner'],
      cluster: {} as Cluster,
      endpoints: new Map(),
      has: () => true,
      resolve: async (_c: Component, e: Endpoint) => {
        resolved.push(e.service);
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      },
      close: async () => {},
    } as Target;
    const t0 = performance.now();
    const report = await verifyStack({
      stack,
      components: [c('postgres')],
      target: 'kube',
      access,
      namespaceChecks: false,
      timeoutMs: 3000,
      initialBackoffMs: 50,
      maxBackoffMs: 100,
    });
    const rows = report.results.filter((r) => r.type === 'metrics');
    expect(rows.map((r) => r.check)).toEqual(['metric-connections', 'metric-qps', 'metric-slow-queries']);
    for (const r of rows)
      expect(r).toMatchObject({
        status: 'skip',
        reason: 'not-checked',
        message: 'not checked: it asks prometheus (Service prometheus), which this run does not verify',
      });
    expect(resolved).not.toContain('prometheus');
    expect(resolved).toContain('postgres'); // its own checks were tried
    expect(performance.now() - t0).toBeLessThan(6000);
  }, 10_000);
});
