import { asArray, isRecord, stringMap } from '../manifests/objects.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { PodPort } from './model.ts';
import { type LabelSelector, type Labels, matches } from './selectors.ts';

/**
 * NetworkPolicy semantics, evaluated without a cluster. Written from the Kubernetes docs "Network
 * Policies" (kubernetes.io/docs/concepts/services-networking/network-policies) and the API reference
 * (networking.k8s.io/v1 NetworkPolicySpec / NetworkPolicyPeer / NetworkPolicyPort):
 *  - A pod is isolated for ingress (egress) when any policy in its namespace selects it with
 *    "Ingress" ("Egress") in policyTypes. policyTypes defaults to [Ingress], plus Egress when the
 *    policy has egress rules.
 *  - A connection needs both ends: the source's egress and the destination's ingress must allow it.
 *    A non-isolated direction allows everything; policies are additive (any allowing rule wins).
 *  - A rule with no `from`/`to` matches every peer; with no `ports` every port. An empty rule list
 *    with the type isolated allows nothing.
 *  - A peer with only podSelector: pods in the policy's namespace; only namespaceSelector: every
 *    pod of the matching namespaces; both: matching pods in matching namespaces.
 *  - ipBlock: the docs say it is meant for cluster-external IPs (pod IPs are ephemeral), and
 *    whether it applies to pod traffic is implementation-defined: here it never matches a pod.
 *  - ports: a number or a named container port of the destination pod, protocol default TCP,
 *    endPort makes a range.
 *  - A pod can always reach itself, and traffic from the pod's node is always allowed (the docs'
 *    stated exceptions): kubelet probes and port-forwards are therefore not modelled.
 */
export interface Endpoint {
  namespace: string;
  labels: Labels;
  /** Declared container ports, for named ports. */
  ports?: PodPort[];
}

export interface Policy {
  namespace: string;
  object: KubeObject;
  podSelector: LabelSelector;
  ingress?: Rule[];
  egress?: Rule[];
  types: Set<'Ingress' | 'Egress'>;
}

interface Rule {
  index: number;
  peers?: Record<string, unknown>[];
  ports?: Record<string, unknown>[];
}

/** Why a connection is allowed: the rule that admits it, or that the destination is not isolated. */
export type Verdict =
  | { allowed: false; reason: 'denied' }
  | { allowed: true; reason: 'not-isolated' }
  | { allowed: true; reason: 'rule'; policy: KubeObject; path: (string | number)[] };

export function readPolicies(objects: readonly KubeObject[], defaultNamespace: string): Policy[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => {
      const spec = isRecord(o.spec) ? o.spec : {};
      const rules = (field: string): Rule[] | undefined =>
        spec[field] === undefined
          ? undefined
          : asArray(spec[field]).map((r, index) => {
              const peerField = field === 'ingress' ? 'from' : 'to';
              const rec = isRecord(r) ? r : {};
              return {
                index,
                peers: rec[peerField] === undefined ? undefined : asArray(rec[peerField]).filter(isRecord),
                ports: rec.ports === undefined ? undefined : asArray(rec.ports).filter(isRecord),
              };
            });
      const ingress = rules('ingress');
      const egress = rules('egress');
      const declared = asArray(spec.policyTypes).filter(
        (t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress',
      );
      const types = new Set(
        declared.length
          ? declared
          : egress?.length
            ? (['Ingress', 'Egress'] as const)
            : (['Ingress'] as const),
      );
      return {
        namespace: o.metadata.namespace ?? defaultNamespace,
        object: o,
        podSelector: selector(spec.podSelector) ?? {},
        ingress,
        egress,
        types,
      };
    });
}

function selector(v: unknown): LabelSelector | undefined {
  if (!isRecord(v)) return undefined;
  return {
    matchLabels: stringMap(v.matchLabels),
    matchExpressions: asArray(v.matchExpressions)
      .filter(isRecord)
      .map((e) => ({
        key: String(e.key),
        operator: String(e.operator),
        values: asArray(e.values).map(String),
      })),
  };
}

/** Labels of a namespace: its own, plus `kubernetes.io/metadata.name` the API server always sets. */
export type NamespaceLabels = (namespace: string) => Labels;

export function namespaceLabelsFrom(objects: readonly KubeObject[]): NamespaceLabels {
  const known = new Map(
    objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, stringMap(o.metadata.labels)]),
  );
  return (ns) => ({ ...(known.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns });
}

function peerMatches(
  peer: Record<string, unknown>,
  policyNs: string,
  other: Endpoint,
  nsLabels: NamespaceLabels,
): boolean {
  const pods = selector(peer.podSelector);
  const namespaces = selector(peer.namespaceSelector);
  if (!pods && !namespaces) return false; // ipBlock only (or an empty peer the API rejects)
  if (namespaces) {
    if (!matches(namespaces, nsLabels(other.namespace))) return false;
  } else if (other.namespace !== policyNs) return false;
  return pods ? matches(pods, other.labels) : true;
}

function portMatches(p: Record<string, unknown>, dst: Endpoint, port: PodPort): boolean {
  const protocol = typeof p.protocol === 'string' ? p.protocol : 'TCP';
  if (protocol !== port.protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) {
    // a named port is looked up on the destination pod's containers
    const named = dst.ports?.find((x) => x.name === p.port && x.protocol === protocol);
    return named?.port === port.port;
  }
  const from = Number(p.port);
  const to = typeof p.endPort === 'number' ? p.endPort : from;
  return port.port >= from && port.port <= to;
}

function ruleAllows(
  r: Rule,
  policyNs: string,
  other: Endpoint,
  dst: Endpoint,
  port: PodPort,
  nsLabels: NamespaceLabels,
): boolean {
  const peerOk =
    r.peers === undefined || r.peers.length === 0
      ? true
      : r.peers.some((x) => peerMatches(x, policyNs, other, nsLabels));
  const portOk =
    r.ports === undefined || r.ports.length === 0 ? true : r.ports.some((x) => portMatches(x, dst, port));
  return peerOk && portOk;
}

function direction(
  policies: readonly Policy[],
  subject: Endpoint,
  other: Endpoint,
  dst: Endpoint,
  port: PodPort,
  type: 'Ingress' | 'Egress',
  nsLabels: NamespaceLabels,
): Verdict {
  const field = type === 'Ingress' ? 'ingress' : 'egress';
  const applying = policies.filter(
    (p) => p.namespace === subject.namespace && p.types.has(type) && matches(p.podSelector, subject.labels),
  );
  if (applying.length === 0) return { allowed: true, reason: 'not-isolated' };
  for (const p of applying)
    for (const r of p[field] ?? [])
      if (ruleAllows(r, p.namespace, other, dst, port, nsLabels))
        return { allowed: true, reason: 'rule', policy: p.object, path: ['spec', field, r.index] };
  return { allowed: false, reason: 'denied' };
}

/** Whether `src` may open a connection to `dst` on `port`, and which rule of the destination allows it. */
export function evaluate(
  policies: readonly Policy[],
  nsLabels: NamespaceLabels,
  src: Endpoint,
  dst: Endpoint,
  port: PodPort,
): { verdict: Verdict; egress: Verdict } {
  const egress = direction(policies, src, dst, dst, port, 'Egress', nsLabels);
  const ingress = direction(policies, dst, src, dst, port, 'Ingress', nsLabels);
  return { verdict: egress.allowed ? ingress : { allowed: false, reason: 'denied' }, egress };
}
