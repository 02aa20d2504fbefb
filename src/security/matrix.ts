import type { Stack } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import { type Endpoint, evaluate, namespaceLabelsFrom, type Policy, readPolicies } from './evaluate.ts';
import { connectionPorts } from './generate.ts';
import { buildModel, type Pod, type PodPort, type StackModel, showLabels } from './model.ts';

/** Where a violation should be fixed: a catalog key, or a field of a rendered object. */
export type Place = { catalog: (string | number)[] } | { object: KubeObject; path: (string | number)[] };

export interface Violation {
  message: string;
  at: Place;
}

/** One row of the matrix: what `from` may open to `to`. */
export interface Cell {
  from: string;
  to: string;
  /** Allowed ports (`*` = every port, including undeclared ones). */
  ports: string[];
}

export interface Reachability {
  model: StackModel;
  cells: Cell[];
  violations: Violation[];
  policies: number;
}

/** A port nothing declares: a rule that admits it admits every port. */
const UNDECLARED: PodPort = { port: 1, protocol: 'TCP' };
/**
 * Cluster DNS as kubeadm installs it, which kind uses: pods labelled `k8s-app: kube-dns` in
 * kube-system, port 53 UDP and TCP (kubernetes/kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go).
 */
const DNS: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const DNS_PORTS: PodPort[] = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

interface Source {
  name: string;
  endpoint: Endpoint;
  component?: string;
  clientNamespace?: number;
  pod?: Pod;
}

/**
 * Evaluates the rendered NetworkPolicies over the rendered pods and compares the result with what
 * the catalog says must be reachable. Pure: objects in, matrix and violations out.
 */
export function reachability(stack: Stack, objects: readonly KubeObject[]): Reachability {
  const model = buildModel(stack, objects);
  const policies = readPolicies(objects, stack.namespace);
  const nsLabels = namespaceLabelsFrom(objects);
  const net = stack.policy.network;
  const violations: Violation[] = model.problems.map((p) => ({
    message: p.message,
    at: { catalog: ['components', p.component, 'workloads'] },
  }));
  const sources: Source[] = model.pods.map((p) => ({
    name: p.component ?? p.id,
    endpoint: p,
    component: p.component,
    pod: p,
  }));
  (net?.clientNamespaces ?? []).forEach((n, i) => {
    sources.push({
      name: `ns/${n.namespace}`,
      endpoint: { namespace: n.namespace, labels: {} },
      clientNamespace: i,
    });
  });
  // what no rule names: an unlabelled pod in the namespace (the seed's busybox debug pod) and any other namespace
  sources.push({ name: '(unlabelled pod)', endpoint: { namespace: stack.namespace, labels: {} } });
  sources.push({ name: 'ns/(other)', endpoint: { namespace: 'kindling-unlisted-namespace', labels: {} } });

  const cells = new Map<string, Set<string>>();
  const note = (from: string, to: string, port: string) => {
    const k = `${from}\u0000${to}`;
    if (!cells.has(k)) cells.set(k, new Set());
    cells.get(k)!.add(port);
  };
  const seen = new Set<string>();
  const violate = (key: string, v: Violation) => {
    if (seen.has(key)) return;
    seen.add(key);
    violations.push(v);
  };

  // one violation per (source, destination pod, cause), listing every port it concerns
  const grouped = new Map<string, { ports: string[]; make: (ports: string) => Violation }>();
  const group = (key: string, port: string, make: (ports: string) => Violation) => {
    const g = grouped.get(key) ?? { ports: [], make };
    if (!g.ports.includes(port)) g.ports.push(port);
    grouped.set(key, g);
  };
  for (const src of sources) {
    for (const dst of model.pods) {
      if (!dst.component) continue;
      const T = model.components.get(dst.component)!;
      for (const port of [...dst.ports, UNDECLARED]) {
        const want = expected(stack, model, src, dst.component, port);
        const { verdict } = evaluate(policies, nsLabels, src.endpoint, dst, port);
        const shown = port === UNDECLARED ? '*' : String(port.port);
        if (verdict.allowed) note(src.name, T.name, shown);
        if (verdict.allowed && !want && verdict.reason === 'rule') {
          const { policy, path } = verdict;
          group(`${src.name}>${dst.id}>${policy.metadata.name}>${path.join('.')}`, shown, (ports) => ({
            message: `${src.name} may connect to ${T.name} (${dst.id}) on ${ports}: NetworkPolicy ${policy.metadata.name} admits it, but the catalog has no such edge`,
            at: { object: policy, path },
          }));
        } else if (verdict.allowed && !want)
          violate(`open>${dst.id}`, {
            message: `no NetworkPolicy selects ${dst.id} of "${T.name}" (labels ${showLabels(dst.labels)}): everything may connect to it`,
            at: { object: dst.object!, path: templateLabelsPath(dst) },
          });
        if (!verdict.allowed && want)
          group(`${src.name}>${dst.id}>${want.edge}`, shown, (ports) => ({
            message: `${want.edge} is not allowed by the NetworkPolicies: ${src.name} cannot reach ${dst.id} on ${ports} (after a catalog change: npm run gen:network-policies)`,
            at: { catalog: want.catalog },
          }));
      }
    }
    for (const port of DNS_PORTS) {
      const { verdict } = evaluate(policies, nsLabels, src.endpoint, DNS, port);
      if (!verdict.allowed && src.component)
        violate(`${src.name}>dns`, {
          message: `${src.name} cannot reach cluster DNS (kube-system/kube-dns:53/${port.protocol}): egress to DNS must stay open`,
          at: egressPolicy(policies, src) ?? { catalog: ['components', src.component] },
        });
    }
  }
  for (const g of grouped.values()) {
    const ports = g.ports.map((p) => (p === '*' ? 'undeclared ports' : p));
    violations.push(
      g.make(
        `${ports.length === 1 && ports[0] !== 'undeclared ports' ? 'port' : 'ports'} ${ports.join(', ')}`,
      ),
    );
  }
  if (policies.length === 0)
    violations.push({
      message: 'no NetworkPolicy is rendered: every pod accepts every connection',
      at: { catalog: ['policy', 'network'] },
    });

  const order = (s: string) => (s.startsWith('ns/') || s.startsWith('(') ? `~${s}` : s);
  const out: Cell[] = [...cells.entries()]
    .map(([k, ports]) => {
      const [from, to] = k.split('\u0000') as [string, string];
      return {
        from,
        to,
        ports: [...ports].sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : Number(a) - Number(b))),
      };
    })
    .sort((a, b) => order(a.to).localeCompare(order(b.to)) || order(a.from).localeCompare(order(b.from)));
  return { model, cells: out, violations, policies: policies.length };
}

/** Why the catalog wants `src` to reach `to` on `port`, or undefined. */
function expected(
  stack: Stack,
  model: StackModel,
  src: Source,
  to: string,
  port: PodPort,
): { edge: string; catalog: (string | number)[] } | undefined {
  const T = model.components.get(to)!;
  const has = (list: PodPort[]) => list.some((p) => p.port === port.port && p.protocol === port.protocol);
  const net = stack.policy.network;
  if (src.component === to) return { edge: `traffic within "${to}"`, catalog: ['components', to] };
  if (src.component) {
    const dep = stack.components[src.component]?.dependsOn.indexOf(to) ?? -1;
    if (dep >= 0 && has(T.servicePorts))
      return {
        edge: `dependsOn edge ${src.component} → ${to}`,
        catalog: ['components', src.component, 'dependsOn', dep],
      };
    const k = (net?.connections ?? []).findIndex((c) => c.from === src.component && c.to === to);
    if (k >= 0 && has(connectionPorts(T, net!.connections[k]!.ports)))
      return {
        edge: `connection ${src.component} → ${to}`,
        catalog: ['policy', 'network', 'connections', k],
      };
    if (net?.metricsScraper?.component === src.component && has(T.metricsPorts))
      return {
        edge: `metrics scrape ${src.component} → ${to}`,
        catalog: ['policy', 'network', 'metricsScraper'],
      };
  }
  if (src.clientNamespace !== undefined) {
    const n = net!.clientNamespaces[src.clientNamespace]!;
    const i = n.components.indexOf(to);
    if (i >= 0 && has(T.servicePorts))
      return {
        edge: `client namespace ${n.namespace} → ${to}`,
        catalog: ['policy', 'network', 'clientNamespaces', src.clientNamespace, 'components', i],
      };
  }
  return undefined;
}

function templateLabelsPath(p: Pod): (string | number)[] {
  const o = p.object!;
  const base =
    o.kind === 'CronJob'
      ? ['spec', 'jobTemplate', 'spec', 'template']
      : o.kind === 'Pod'
        ? []
        : ['spec', 'template'];
  return [...base, 'metadata', 'labels'];
}

function egressPolicy(policies: readonly Policy[], src: Source): Place | undefined {
  const p = policies.find((x) => x.types.has('Egress') && x.namespace === src.endpoint.namespace);
  return p && { object: p.object, path: ['spec'] };
}

/** The matrix as text for `kindling plan`: one line per destination, its sources and ports. */
export function formatMatrix(r: Reachability): string {
  const lines = [
    `network reachability (${r.policies} NetworkPolicies evaluated on the rendered pods; egress incl. DNS open):`,
  ];
  const byTo = new Map<string, Cell[]>();
  for (const c of r.cells) byTo.set(c.to, [...(byTo.get(c.to) ?? []), c]);
  const width = Math.max(0, ...[...byTo.keys()].map((k) => k.length));
  for (const [to, list] of byTo)
    lines.push(
      `  ${to.padEnd(width)} ← ${list.map((c) => `${c.from}${c.ports.includes('*') ? ' (all ports)' : ` :${c.ports.join(',')}`}`).join('; ')}`,
    );
  for (const v of r.violations) lines.push(`  violation: ${v.message}`);
  return `${lines.join('\n')}\n`;
}
