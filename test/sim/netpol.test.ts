/**
 * The simulated node's NetworkPolicy filter decisions (test/sim/netpol.ts): which (source pod,
 * port) pairs each destination pod's nftables chain accepts or drops, from the evaluator's verdicts.
 * Pure; the kernel enforcement itself is exercised by test/e2e/netpol.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { podFilters } from './netpol.ts';

const pod = (name: string, ip: string, labels: Record<string, string>, ports: number[] = []) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels },
  spec: { containers: [{ name: 'c', ports: ports.map((containerPort) => ({ containerPort })) }] },
  status: { podIP: ip },
});
const policy = (name: string, spec: object) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'ns' },
  spec,
});
const NS = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } }];

describe('simulated NetworkPolicy filter (evaluate.ts verdicts as nftables rules)', () => {
  const db = pod('db', '10.244.0.2', { app: 'db' }, [5432]);
  const api = pod('api', '10.244.0.3', { app: 'api' }, [8080]);
  const stranger = pod('stranger', '10.244.0.4', {});

  it('no policy: no filter for any pod', () => {
    const f = podFilters([db, api, stranger], [], NS);
    expect([...f.values()]).toEqual([undefined, undefined, undefined]);
  });

  it('default-deny + one allowed peer: the peer is accepted on the declared port, every other TCP packet dropped', () => {
    const f = podFilters(
      [db, api, stranger],
      [
        policy('deny', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy('db', {
          podSelector: { matchLabels: { app: 'db' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] }],
        }),
      ],
      NS,
    );
    const rules = f.get('uid-db')!;
    expect(rules).toContain('ip saddr 10.244.0.3 tcp dport 5432 accept');
    expect(rules).not.toContain('10.244.0.4');
    expect(rules).toContain('ip saddr 10.244.0.1 accept'); // the node (probes, host)
    expect(rules.trim().split('\n').at(-3)).toBe('    meta l4proto tcp drop');
    // api is isolated too (default-deny) and nobody is allowed in
    expect(f.get('uid-api')).not.toMatch(/dport 8080 accept/);
    expect(f.get('uid-api')).toContain('meta l4proto tcp drop');
  });

  it('an egress-isolated source: its packets to a non-isolated pod are dropped at the destination, others pass', () => {
    const f = podFilters(
      [db, api, stranger],
      [
        policy('api-egress', {
          podSelector: { matchLabels: { app: 'api' } },
          policyTypes: ['Egress'],
          egress: [],
        }),
      ],
      NS,
    );
    const rules = f.get('uid-db')!;
    expect(rules).toContain('ip saddr 10.244.0.3 tcp dport 5432 drop');
    expect(rules).not.toContain('10.244.0.4');
    expect(rules).not.toContain('meta l4proto tcp drop');
  });
});
