import type { Component, Stack } from '../catalog/types.ts';
import { asArray, containersOf, get, isRecord, podTemplate, stringMap } from '../manifests/objects.ts';
import type { KubeObject } from '../manifests/render.ts';
import { commonLabels, type Labels, matches } from './selectors.ts';

/** A port a pod's containers declare. */
export interface PodPort {
  name?: string;
  port: number;
  protocol: string;
}

/** One pod template of the rendered stack: every pod of the workload has these labels and ports. */
export interface Pod {
  /** `StatefulSet/postgres` */
  id: string;
  namespace: string;
  labels: Labels;
  ports: PodPort[];
  /** The catalog component the pods belong to (undefined: nobody's). */
  component?: string;
  object?: KubeObject;
}

/** A component's pods and the ports others may use, all resolved from the rendered objects. */
export interface ComponentPods {
  name: string;
  /** The labels all its pods share: the podSelector of its policy and of its peers. */
  selector: Record<string, string>;
  pods: Pod[];
  /** Container ports behind the catalog's Services of the component (what its clients connect to). */
  servicePorts: PodPort[];
  /** Container ports its Services announce to the metrics scraper. */
  metricsPorts: PodPort[];
}

export interface StackModel {
  namespace: string;
  components: Map<string, ComponentPods>;
  /** Every pod template in the stack's namespace, with its component where one claims it. */
  pods: Pod[];
  /** Why a component could not be modelled (no workloads rendered, no distinguishing labels). */
  problems: { component: string; message: string }[];
}

const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

function podOf(o: KubeObject, namespace: string): Pod | undefined {
  const t = podTemplate(o);
  if (!t) return undefined;
  const ports: PodPort[] = [];
  for (const c of containersOf(t))
    for (const p of asArray(c.value.ports))
      if (isRecord(p) && typeof p.containerPort === 'number')
        ports.push({
          name: typeof p.name === 'string' ? p.name : undefined,
          port: p.containerPort,
          protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
        });
  return { id: key(o), namespace: o.metadata.namespace ?? namespace, labels: t.labels, ports, object: o };
}

/** A Service's targetPort on a pod: a number, or a container port name (docs "Service", targetPort). */
export function resolveTargetPort(pod: Pod, target: unknown, fallback: number): PodPort | undefined {
  if (typeof target === 'string' && !/^\d+$/.test(target)) return pod.ports.find((p) => p.name === target);
  const n = target === undefined ? fallback : Number(target);
  return pod.ports.find((p) => p.port === n) ?? { port: n, protocol: 'TCP' };
}

function uniquePorts(ports: PodPort[]): PodPort[] {
  const seen = new Map<string, PodPort>();
  for (const p of ports) seen.set(`${p.protocol}/${p.port}`, p);
  return [...seen.values()].sort((a, b) => a.port - b.port);
}

/** Reads components, pods and ports from the rendered objects; pure. */
export function buildModel(stack: Stack, objects: readonly KubeObject[]): StackModel {
  const ns = stack.namespace;
  const inNs = objects.filter((o) => (o.metadata.namespace ?? ns) === ns);
  const pods = inNs.map((o) => podOf(o, ns)).filter((p): p is Pod => p !== undefined);
  const byId = new Map(pods.map((p) => [p.id, p]));
  const services = inNs.filter((o) => o.kind === 'Service');
  const components = new Map<string, ComponentPods>();
  const problems: StackModel['problems'] = [];

  for (const c of Object.values(stack.components)) {
    const own = c.workloads.map((w) => byId.get(`${w.kind}/${w.name}`)).filter((p): p is Pod => !!p);
    const selector = commonLabels(own.map((p) => p.labels));
    if (!selector || Object.keys(selector).length === 0) {
      problems.push({
        component: c.name,
        message: own.length
          ? `the pods of component "${c.name}" share no label, so no policy can select them`
          : `component "${c.name}" has none of its workloads in the rendered manifests`,
      });
      continue;
    }
    for (const p of own) p.component = c.name;
    components.set(c.name, { name: c.name, selector, pods: own, servicePorts: [], metricsPorts: [] });
  }
  // Pods no catalog workload names (a CronJob) belong to the component they share the most
  // distinguishing labels with (labels every pod carries, like part-of, do not count); the
  // component's selector then narrows to what all its pods share, so policies admit them too.
  const universal = commonLabels(pods.map((p) => p.labels)) ?? {};
  for (const p of pods) {
    if (p.component) continue;
    const score = (c: ComponentPods) =>
      Object.entries(c.selector).filter(([k, v]) => p.labels[k] === v && universal[k] !== v).length;
    const ranked = [...components.values()].map((c) => ({ c, n: score(c) })).sort((a, b) => b.n - a.n);
    if (ranked[0] && ranked[0].n > 0 && ranked[1]?.n !== ranked[0].n) {
      p.component = ranked[0].c.name;
      ranked[0].c.pods.push(p);
    }
  }
  for (const c of components.values()) c.selector = commonLabels(c.pods.map((p) => p.labels)) ?? c.selector;
  for (const c of components.values()) {
    const comp = stack.components[c.name]!;
    c.servicePorts = uniquePorts(servicePortsOf(comp, c, services));
    c.metricsPorts = uniquePorts(metricsPortsOf(stack, c, services));
  }
  // a selector that also picks another component's pods would open that component's port too
  for (const c of components.values())
    for (const p of pods)
      if (p.component && p.component !== c.name && matches({ matchLabels: c.selector }, p.labels))
        problems.push({
          component: c.name,
          message: `the labels shared by the pods of "${c.name}" (${showLabels(c.selector)}) also select ${p.id} of "${p.component}"`,
        });
  return { namespace: ns, components, pods, problems };
}

function selectedPods(svc: KubeObject, c: ComponentPods): Pod[] {
  const sel = stringMap(get(svc, ['spec', 'selector']));
  if (Object.keys(sel).length === 0) return [];
  return c.pods.filter((p) => matches({ matchLabels: sel }, p.labels));
}

function servicePortsOf(comp: Component, c: ComponentPods, services: KubeObject[]): PodPort[] {
  const out: PodPort[] = [];
  for (const ref of comp.services) {
    const svc = services.find((s) => s.metadata.name === ref.name);
    if (!svc) continue;
    const pods = selectedPods(svc, c);
    for (const sp of asArray(get(svc, ['spec', 'ports']))) {
      if (!isRecord(sp) || typeof sp.port !== 'number' || !ref.ports.includes(sp.port)) continue;
      for (const pod of pods) {
        const p = resolveTargetPort(pod, sp.targetPort, sp.port);
        if (p) out.push({ port: p.port, protocol: typeof sp.protocol === 'string' ? sp.protocol : 'TCP' });
      }
    }
  }
  return out;
}

function metricsPortsOf(stack: Stack, c: ComponentPods, services: KubeObject[]): PodPort[] {
  const scraper = stack.policy.network?.metricsScraper;
  if (!scraper) return [];
  const out: PodPort[] = [];
  for (const svc of services) {
    const ann = stringMap(svc.metadata.annotations);
    if (scraper.scrapeAnnotation && ann[scraper.scrapeAnnotation] !== 'true') continue;
    const port = Number(ann[scraper.portAnnotation]);
    // the scrape config puts this port on the pod's address: it is a container port, not a Service port
    if (Number.isInteger(port) && port > 0 && selectedPods(svc, c).length)
      out.push({ port, protocol: 'TCP' });
  }
  return out;
}

export function showLabels(l: Labels): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
