/**
 * The NetworkPolicy evaluator against the semantics of the Kubernetes docs "Network Policies"
 * (kubernetes.io/docs/concepts/services-networking/network-policies) and the API reference
 * (networking.k8s.io/v1): each case is one documented rule, with a connection it must allow and
 * one it must deny, so no case passes with an evaluator that answers always yes or always no.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/manifests/render.ts';
import { type Endpoint, evaluate, namespaceLabelsFrom, readPolicies } from '../../src/security/evaluate.ts';
import { matches } from '../../src/security/selectors.ts';

const NS = 'infra';
const pol = (name: string, spec: Record<string, unknown>, namespace = NS): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});
const db: Endpoint = {
  namespace: NS,
  labels: { role: 'db' },
  ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
};
const web: Endpoint = { namespace: NS, labels: { role: 'web' } };
const other: Endpoint = { namespace: NS, labels: { role: 'other' } };
const appPod: Endpoint = { namespace: 'apps', labels: { role: 'web' } };
const appOther: Endpoint = { namespace: 'apps', labels: { role: 'other' } };
const TCP = (port: number) => ({ port, protocol: 'TCP' });
const nsObjects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels: { team: 'voice' } } },
];

function allowed(policies: KubeObject[], src: Endpoint, dst: Endpoint, port = TCP(5432)): boolean {
  return evaluate(readPolicies(policies, NS), namespaceLabelsFrom(nsObjects), src, dst, port).verdict.allowed;
}

describe('NetworkPolicy evaluation (docs "Network Policies")', () => {
  it('pods no policy selects are non-isolated: every connection is allowed', () => {
    const p = [pol('only-db', { podSelector: { matchLabels: { role: 'db' } }, policyTypes: ['Ingress'] })];
    expect(allowed(p, web, other)).toBe(true);
    expect(allowed(p, web, db)).toBe(false);
  });

  it('"default deny all ingress": podSelector {} with policyTypes [Ingress] and no rules isolates every pod', () => {
    const p = [pol('deny', { podSelector: {}, policyTypes: ['Ingress'] })];
    expect(allowed(p, web, db)).toBe(false);
    expect(allowed(p, db, web)).toBe(false);
    expect(allowed([], web, db)).toBe(true);
  });

  it('policies are additive: a second policy selecting the pod can only allow more', () => {
    const deny = pol('deny', { podSelector: {}, policyTypes: ['Ingress'] });
    const allowWeb = pol('web-to-db', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }] }],
    });
    expect(allowed([deny, allowWeb], web, db)).toBe(true);
    expect(allowed([deny, allowWeb], other, db)).toBe(false);
  });

  it('policyTypes defaults to [Ingress] (plus Egress only when egress rules exist)', () => {
    const noTypes = pol('no-types', { podSelector: { matchLabels: { role: 'db' } } });
    expect(allowed([noTypes], web, db)).toBe(false); // isolated for ingress, no rule
    expect(allowed([noTypes], db, web)).toBe(true); // not isolated for egress
    const withEgress = pol('egress-rules', {
      podSelector: { matchLabels: { role: 'web' } },
      egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }] }],
    });
    expect(allowed([withEgress], web, db)).toBe(true);
    expect(allowed([withEgress], web, other)).toBe(false);
  });

  it('a connection needs the egress of the source and the ingress of the destination', () => {
    const ingressOk = pol('in', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{}] });
    const egressDeny = pol('out', { podSelector: { matchLabels: { role: 'web' } }, policyTypes: ['Egress'] });
    expect(allowed([ingressOk], web, db)).toBe(true);
    expect(allowed([ingressOk, egressDeny], web, db)).toBe(false);
  });

  it("a podSelector-only peer means pods of the policy's own namespace", () => {
    const p = [
      pol('web', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }] }],
      }),
    ];
    expect(allowed(p, web, db)).toBe(true);
    expect(allowed(p, appPod, db)).toBe(false);
  });

  it('namespaceSelector and podSelector in ONE peer are ANDed; as two peers they are ORed', () => {
    const and = [
      pol('and', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'voice' } },
                podSelector: { matchLabels: { role: 'web' } },
              },
            ],
          },
        ],
      }),
    ];
    expect(allowed(and, appPod, db)).toBe(true);
    expect(allowed(and, appOther, db)).toBe(false);
    expect(allowed(and, web, db)).toBe(false);
    const or = [
      pol('or', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'voice' } } },
              { podSelector: { matchLabels: { role: 'web' } } },
            ],
          },
        ],
      }),
    ];
    expect(allowed(or, appOther, db)).toBe(true);
    expect(allowed(or, web, db)).toBe(true);
    expect(allowed(or, other, db)).toBe(false);
  });

  it('every namespace carries kubernetes.io/metadata.name (set by the API server), even one not rendered', () => {
    const p = [
      pol('by-name', {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elsewhere' } } }] },
        ],
      }),
    ];
    expect(allowed(p, { namespace: 'elsewhere', labels: {} }, db)).toBe(true);
    expect(allowed(p, appPod, db)).toBe(false);
  });

  it('ports: numbers, named container ports of the destination, endPort ranges, protocol default TCP', () => {
    const rule = (ports: unknown[]) => [
      pol('p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports }] }),
    ];
    expect(allowed(rule([{ port: 5432 }]), web, db, TCP(5432))).toBe(true);
    expect(allowed(rule([{ port: 5432 }]), web, db, TCP(5433))).toBe(false);
    expect(allowed(rule([{ port: 'pg' }]), web, db, TCP(5432))).toBe(true);
    expect(allowed(rule([{ port: 'pg' }]), web, db, TCP(6379))).toBe(false);
    expect(allowed(rule([{ port: 5000, endPort: 6000 }]), web, db, TCP(5432))).toBe(true);
    expect(allowed(rule([{ port: 5000, endPort: 6000 }]), web, db, TCP(6379))).toBe(false);
    expect(allowed(rule([{ port: 53 }]), web, db, { port: 53, protocol: 'UDP' })).toBe(false);
    expect(allowed(rule([{ port: 53, protocol: 'UDP' }]), web, db, { port: 53, protocol: 'UDP' })).toBe(true);
  });

  it('an ipBlock peer never matches a pod (meant for cluster-external IPs)', () => {
    const p = [pol('ip', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })];
    expect(allowed(p, web, db)).toBe(false);
    const withPods = [
      pol('ip+pods', {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { podSelector: {} }] }],
      }),
    ];
    expect(allowed(withPods, web, db)).toBe(true);
  });

  it('a policy only applies to pods of its own namespace', () => {
    const p = [pol('deny', { podSelector: {}, policyTypes: ['Ingress'] }, 'apps')];
    expect(allowed(p, web, db)).toBe(true);
    expect(allowed(p, web, appPod)).toBe(false);
  });

  it('the verdict names the rule that admits the connection', () => {
    const p = [
      pol('deny', { podSelector: {}, policyTypes: ['Ingress'] }),
      pol('two', {
        podSelector: {},
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'x' } } }] },
          { from: [{ podSelector: { matchLabels: { role: 'web' } } }] },
        ],
      }),
    ];
    const v = evaluate(readPolicies(p, NS), namespaceLabelsFrom([]), web, db, TCP(1)).verdict;
    expect(v).toMatchObject({ allowed: true, reason: 'rule', path: ['spec', 'ingress', 1] });
    expect(v.allowed && v.reason === 'rule' && v.policy.metadata.name).toBe('two');
  });
});

describe('label selectors (apimachinery LabelSelector)', () => {
  it('matchLabels and every matchExpressions operator', () => {
    const l = { a: '1', b: '2' };
    expect(matches({}, l)).toBe(true);
    expect(matches({ matchLabels: { a: '1' } }, l)).toBe(true);
    expect(matches({ matchLabels: { a: '2' } }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '3'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['3'] }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['3'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['1'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'c', operator: 'Exists' }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, l)).toBe(false);
  });
});
