import type { Stack } from '../catalog/types.ts';
import { asArray, get, isRecord, podTemplate, stringMap } from '../manifests/objects.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Violation } from './matrix.ts';
import { type LabelSelector, matches } from './selectors.ts';

/**
 * Hardening of replicated workloads (replicas > 1) of catalog components, for the strict sizings:
 *  - spread: no two replicas on one `spreadTopologyKey` domain. A required podAntiAffinity term on
 *    that key selecting the workload's own pods guarantees it (docs "Assigning Pods to Nodes",
 *    inter-pod anti-affinity); a preferred term does not (the scheduler may still co-locate), and a
 *    DoNotSchedule topologySpreadConstraint with maxSkew 1 (docs "Pod Topology Spread Constraints")
 *    only bounds the skew (3 replicas on 2 nodes: 2+1), so it is accepted for non-quorum workloads only;
 *  - disruption budget (docs "Specifying a Disruption Budget for your Application",
 *    tasks/run-application/configure-pdb): exactly one PDB selects the pods (the eviction API
 *    refuses pods with several); it allows at least one voluntary disruption (maxUnavailable 0 or
 *    minAvailable = replicas means a node drain never completes); percentages round up, as the
 *    disruption controller does; for a quorum component at most a minority may be down.
 */
export function hardeningViolations(stack: Stack, objects: readonly KubeObject[]): Violation[] {
  const h = stack.policy.hardening;
  if (!h) return [];
  const key = h.spreadTopologyKey;
  const out: Violation[] = [];
  const ns = (o: KubeObject) => o.metadata.namespace ?? stack.namespace;
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const c of Object.values(stack.components))
    for (const w of c.workloads) {
      if (w.kind !== 'Deployment' && w.kind !== 'StatefulSet') continue;
      const o = objects.find(
        (x) => x.kind === w.kind && x.metadata.name === w.name && ns(x) === stack.namespace,
      );
      const replicas = o ? get(o, ['spec', 'replicas']) : undefined;
      if (!o || typeof replicas !== 'number' || replicas < 2) continue;
      const t = podTemplate(o)!;
      const who = `${w.kind} ${w.name} (${replicas} replicas)`;
      const quorum = h.quorum.includes(c.name);
      if (key && !spreads(t.spec, t.labels, key, quorum))
        out.push({
          message: `${who} of "${c.name}" is not kept off shared ${key} domains: add a required podAntiAffinity term on ${key} selecting its pods${quorum ? '' : ' (or a DoNotSchedule topologySpreadConstraint, maxSkew 1)'}; a preferred term can still co-locate replicas`,
          at: { object: o, path: [...t.path, 'spec'] },
        });
      const mine = pdbs.filter((p) => ns(p) === ns(o) && pdbSelects(p, t.labels));
      if (mine.length === 0) {
        out.push({
          message: `${who} of "${c.name}" has no PodDisruptionBudget: a node drain may evict every replica at once`,
          at: { object: o, path: ['spec', 'replicas'] },
        });
        continue;
      }
      if (mine.length > 1) {
        out.push({
          message: `${who} is selected by ${mine.length} PodDisruptionBudgets (${mine.map((p) => p.metadata.name).join(', ')}): the eviction API refuses pods with more than one`,
          at: { object: mine[1]!, path: ['spec', 'selector'] },
        });
        continue;
      }
      const pdb = mine[0]!;
      const allowed = disruptionsAllowed(pdb, replicas);
      const field = get(pdb, ['spec', 'maxUnavailable']) !== undefined ? 'maxUnavailable' : 'minAvailable';
      if (allowed === undefined)
        out.push({
          message: `PodDisruptionBudget ${pdb.metadata.name} sets neither minAvailable nor maxUnavailable as a number or percentage`,
          at: { object: pdb, path: ['spec'] },
        });
      else if (allowed < 1)
        out.push({
          message: `PodDisruptionBudget ${pdb.metadata.name} allows no voluntary disruption of ${who}: a node drain never completes (${field} ${String(get(pdb, ['spec', field]))})`,
          at: { object: pdb, path: ['spec', field] },
        });
      else if (quorum && allowed > Math.floor((replicas - 1) / 2))
        out.push({
          message: `PodDisruptionBudget ${pdb.metadata.name} lets ${allowed} of ${replicas} members of "${c.name}" be down at once: a quorum needs a majority (at most ${Math.floor((replicas - 1) / 2)})`,
          at: { object: pdb, path: ['spec', field] },
        });
    }
  return out;
}

function selectorOf(v: unknown): LabelSelector | undefined {
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

function pdbSelects(pdb: KubeObject, labels: Record<string, string>): boolean {
  const s = selectorOf(get(pdb, ['spec', 'selector']));
  return s !== undefined && matches(s, labels);
}

function spreads(
  spec: Record<string, unknown>,
  labels: Record<string, string>,
  key: string,
  quorum: boolean,
): boolean {
  const own = (sel: unknown) => {
    const s = selectorOf(sel);
    return s !== undefined && matches(s, labels);
  };
  const required = asArray(
    get(spec, ['affinity', 'podAntiAffinity', 'requiredDuringSchedulingIgnoredDuringExecution']),
  );
  if (required.some((t) => isRecord(t) && t.topologyKey === key && own(t.labelSelector))) return true;
  if (quorum) return false;
  return asArray(spec.topologySpreadConstraints).some(
    (t) =>
      isRecord(t) &&
      t.topologyKey === key &&
      t.whenUnsatisfiable === 'DoNotSchedule' &&
      t.maxSkew === 1 &&
      own(t.labelSelector),
  );
}

/** Voluntary disruptions a PDB allows with every replica healthy; percentages round up. */
export function disruptionsAllowed(pdb: KubeObject, replicas: number): number | undefined {
  const scaled = (v: unknown): number | undefined => {
    if (typeof v === 'number') return v;
    const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null;
    return m ? Math.ceil((replicas * Number(m[1])) / 100) : undefined;
  };
  const maxU = get(pdb, ['spec', 'maxUnavailable']);
  if (maxU !== undefined) {
    const n = scaled(maxU);
    return n === undefined ? undefined : Math.min(n, replicas);
  }
  const minA = scaled(get(pdb, ['spec', 'minAvailable']));
  return minA === undefined ? undefined : Math.max(0, replicas - minA);
}
