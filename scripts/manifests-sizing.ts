/**
 * What a rendered profile asks of a cluster: CPU/memory requests, volumes and replicas per component,
 * read from the objects exactly as kustomize renders them. Pure functions, shared by the README
 * generator (scripts/manifests-readme.ts) and the sizing tests.
 */
import type { KubeObject } from '../src/manifests/render.ts';

export const NAME_LABEL = 'app.kubernetes.io/name';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const list = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(rec) : []);

const SUFFIX: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes quantity (`250m`, `1`, `512Mi`, `2Gi`, `1e3`) as a plain number (cores or bytes). */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+(?:e[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(q ?? '').trim());
  if (!m) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(q)}`);
  return Number(m[1]) * (m[2] ? SUFFIX[m[2]]! : 1);
}

export interface Resources {
  /** cores */
  cpu: number;
  /** bytes */
  memory: number;
}

const ZERO: Resources = { cpu: 0, memory: 0 };
const add = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });
const scale = (a: Resources, n: number): Resources => ({ cpu: a.cpu * n, memory: a.memory * n });

function containerRequests(c: Rec): Resources {
  const req = rec(rec(c.resources).requests);
  return {
    cpu: req.cpu === undefined ? 0 : parseQuantity(req.cpu),
    memory: req.memory === undefined ? 0 : parseQuantity(req.memory),
  };
}

/**
 * A pod's effective request, as the scheduler computes it: the sum of the app containers and
 * native sidecars (init containers with restartPolicy Always), or the largest ordinary init
 * container plus the sidecars started before it, whichever is larger — per resource.
 */
export function podRequests(podSpec: unknown): Resources {
  const spec = rec(podSpec);
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of list(spec.initContainers)) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') sidecars = add(sidecars, r);
    else
      initPeak = {
        cpu: Math.max(initPeak.cpu, sidecars.cpu + r.cpu),
        memory: Math.max(initPeak.memory, sidecars.memory + r.memory),
      };
  }
  const running = list(spec.containers).map(containerRequests).reduce(add, sidecars);
  return { cpu: Math.max(running.cpu, initPeak.cpu), memory: Math.max(running.memory, initPeak.memory) };
}

export interface ComponentSizing {
  component: string;
  /** Long-running pods (Deployment/StatefulSet/DaemonSet replicas; a DaemonSet counts once). */
  replicas: number;
  requests: Resources;
  /** Requested bytes of persistent storage: volumeClaimTemplates x replicas, plus standalone PVCs. */
  storage: number;
}

/** Sizing of every component present in the rendered objects, keyed by `app.kubernetes.io/name`. */
export function sizeByComponent(objects: readonly KubeObject[]): Map<string, ComponentSizing> {
  const out = new Map<string, ComponentSizing>();
  const entry = (o: KubeObject): ComponentSizing | undefined => {
    const name = o.metadata.labels?.[NAME_LABEL];
    if (!name) return undefined;
    let e = out.get(name);
    if (!e) {
      e = { component: name, replicas: 0, requests: ZERO, storage: 0 };
      out.set(name, e);
    }
    return e;
  };
  for (const o of objects) {
    const spec = rec(o.spec);
    if (WORKLOAD_KINDS.has(o.kind)) {
      const e = entry(o);
      if (!e) continue;
      const replicas = o.kind === 'DaemonSet' ? 1 : typeof spec.replicas === 'number' ? spec.replicas : 1;
      e.replicas += replicas;
      e.requests = add(e.requests, scale(podRequests(rec(spec.template).spec), replicas));
      for (const vct of list(spec.volumeClaimTemplates)) {
        e.storage += replicas * parseQuantity(rec(rec(rec(vct.spec).resources).requests).storage ?? 0);
      }
    } else if (o.kind === 'PersistentVolumeClaim') {
      const e = entry(o);
      if (e) e.storage += parseQuantity(rec(rec(spec.resources).requests).storage ?? 0);
    }
  }
  return out;
}

/** The summed requests of some components (those absent from the sizing count as zero). */
export function totalRequests(sizing: Map<string, ComponentSizing>, components: Iterable<string>): Resources {
  let t = ZERO;
  for (const c of components) t = add(t, sizing.get(c)?.requests ?? ZERO);
  return t;
}

export const formatCpu = (cores: number): string =>
  cores < 1 ? `${Math.round(cores * 1000)}m` : `${Number(cores.toFixed(2))}`;

export function formatBytes(bytes: number): string {
  if (bytes === 0) return '-';
  const gi = bytes / 2 ** 30;
  return gi >= 1 ? `${Number(gi.toFixed(2))}Gi` : `${Math.round(bytes / 2 ** 20)}Mi`;
}
