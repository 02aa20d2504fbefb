/**
 * The hardening rules on small rendered-like objects (pure): what counts as a spread for quorum and
 * non-quorum workloads, PDB counting (docs "Specifying a Disruption Budget for your Application").
 */
import { describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/index.ts';
import type { Stack } from '../../src/catalog/types.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { hardeningViolations } from '../../src/security/hardening.ts';

const base = loadStack('manifests/stack.yaml');
const NS = base.namespace;
const labels = { 'app.kubernetes.io/name': 'grafana' };

function stack(quorum: string[]): Stack {
  const s = structuredClone(base);
  s.policy.hardening = { spreadTopologyKey: 'kubernetes.io/hostname', quorum };
  return s;
}
function grafana(replicas: number, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'grafana', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [], ...spec } },
    },
  };
}
const pdb = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: labels }, ...spec },
});
const required = {
  affinity: {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } },
      ],
    },
  },
};
const preferred = {
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } },
        },
      ],
    },
  },
};
const spread = {
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: labels },
    },
  ],
};
const messages = (s: Stack, objects: KubeObject[]) => hardeningViolations(s, objects).map((v) => v.message);

describe('hardening rules', () => {
  it('one replica: nothing to spread or budget', () => {
    expect(messages(stack([]), [grafana(1, {})])).toEqual([]);
  });
  it('required anti-affinity + one PDB allowing one disruption: clean', () => {
    expect(messages(stack(['grafana']), [grafana(3, required), pdb('g', { maxUnavailable: 1 })])).toEqual([]);
  });
  it('a preferred term is not a spread; a DoNotSchedule spread counts only for non-quorum workloads', () => {
    expect(messages(stack([]), [grafana(2, preferred), pdb('g', { maxUnavailable: 1 })])[0]).toMatch(
      /is not kept off shared kubernetes\.io\/hostname domains/,
    );
    expect(messages(stack([]), [grafana(2, spread), pdb('g', { maxUnavailable: 1 })])).toEqual([]);
    expect(messages(stack(['grafana']), [grafana(3, spread), pdb('g', { maxUnavailable: 1 })])[0]).toMatch(
      /add a required podAntiAffinity term/,
    );
  });
  it('a spread on another key or selecting other pods does not count', () => {
    const otherKey = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: labels } },
          ],
        },
      },
    };
    const otherPods = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } },
          ],
        },
      },
    };
    for (const spec of [otherKey, otherPods])
      expect(messages(stack([]), [grafana(2, spec), pdb('g', { maxUnavailable: 1 })])).toHaveLength(1);
  });
  it('no PDB, two PDBs, a PDB that blocks drains, a PDB that loses the quorum', () => {
    expect(messages(stack([]), [grafana(2, required)])[0]).toMatch(/has no PodDisruptionBudget/);
    expect(
      messages(stack([]), [
        grafana(2, required),
        pdb('a', { maxUnavailable: 1 }),
        pdb('b', { minAvailable: 1 }),
      ])[0],
    ).toMatch(/selected by 2 PodDisruptionBudgets \(a, b\)/);
    expect(messages(stack([]), [grafana(2, required), pdb('g', { minAvailable: '100%' })])[0]).toMatch(
      /allows no voluntary disruption/,
    );
    expect(
      messages(stack(['grafana']), [grafana(5, required), pdb('g', { maxUnavailable: '50%' })])[0],
    ).toMatch(/lets 3 of 5 members .*at most 2\)/);
    expect(messages(stack(['grafana']), [grafana(5, required), pdb('g', { maxUnavailable: 2 })])).toEqual([]);
  });
});
