/** Lookups over the stack's rendered manifests, shared by the manifests tests. */
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../src/manifests/render.ts';

export type Rec = Record<string, unknown>;
export const rec = (v: unknown): Rec =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {};
export const list = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(rec) : []);

export class Rendered {
  readonly objects: KubeObject[];
  readonly namespace: string;
  constructor(objects: KubeObject[], namespace: string) {
    this.objects = objects;
    this.namespace = namespace;
  }

  find(kind: string, name: string): KubeObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }

  get(kind: string, name: string): KubeObject {
    const o = this.find(kind, name);
    if (!o) throw new Error(`${kind} ${name} is not rendered`);
    return o;
  }

  ofKind(kind: string): KubeObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }

  /** A container of a workload by name. */
  container(kind: string, name: string, container: string): Rec {
    const c = list(podSpec(this.get(kind, name)).containers).find((x) => x.name === container);
    if (!c) throw new Error(`${kind} ${name} has no container ${container}`);
    return c;
  }

  /**
   * A container's environment as the kubelet would build it: envFrom ConfigMaps and Secrets first,
   * then env (literal values; Secret references resolved too, so tests can follow them).
   */
  env(kind: string, name: string, container: string): Record<string, string> {
    const c = this.container(kind, name, container);
    const out: Record<string, string> = {};
    for (const from of list(c.envFrom)) {
      const cm = rec(from.configMapRef).name;
      const sec = rec(from.secretRef).name;
      if (cm) Object.assign(out, this.configData(String(cm)));
      if (sec) Object.assign(out, this.secretData(String(sec)));
    }
    for (const e of list(c.env)) {
      const ref = rec(rec(e.valueFrom).secretKeyRef);
      const cmRef = rec(rec(e.valueFrom).configMapKeyRef);
      if (typeof e.value === 'string') out[String(e.name)] = e.value;
      else if (ref.name) out[String(e.name)] = this.secretData(String(ref.name))[String(ref.key)] ?? '';
      else if (cmRef.name) out[String(e.name)] = this.configData(String(cmRef.name))[String(cmRef.key)] ?? '';
    }
    return out;
  }

  configData(name: string): Record<string, string> {
    return rec(this.get('ConfigMap', name).data) as Record<string, string>;
  }

  /** A Secret's values, decoded (kustomize's generators write base64 `data`, the base `stringData`). */
  secretData(name: string): Record<string, string> {
    const s = this.get('Secret', name);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec(s.data)))
      out[k] = Buffer.from(String(v), 'base64').toString('utf8');
    Object.assign(out, rec(s.stringData));
    return out;
  }

  /** A YAML document held in a ConfigMap or Secret key. */
  yamlIn(kind: 'ConfigMap' | 'Secret', name: string, key: string): Rec {
    const data = kind === 'ConfigMap' ? this.configData(name) : this.secretData(name);
    const text = data[key];
    if (text === undefined) throw new Error(`${kind} ${name} has no key ${key}`);
    return rec(parseYaml(text));
  }

  /** The Services of the namespace resolved by a `host:port` a client is configured with. */
  serviceFor(hostPort: string): { service: KubeObject; port: Rec } | undefined {
    const [host, portText] = hostPort.split(':');
    const name = host!.replace(new RegExp(`\\.${this.namespace}(\\.svc(\\.cluster\\.local)?)?$`), '');
    const service = this.find('Service', name);
    if (!service) return undefined;
    const port = list(rec(service.spec).ports).find((p) => String(p.port) === portText);
    return port ? { service, port } : undefined;
  }

  /** Workloads whose pod template labels match a Service's selector. */
  selectedWorkloads(service: KubeObject): KubeObject[] {
    const selector = rec(rec(service.spec).selector) as Record<string, string>;
    return this.objects.filter((o) => {
      const labels = rec(rec(rec(rec(o.spec).template).metadata).labels);
      return (
        ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) &&
        Object.keys(selector).length > 0 &&
        Object.entries(selector).every(([k, v]) => labels[k] === v)
      );
    });
  }
}

export function podSpec(o: KubeObject): Rec {
  return rec(rec(rec(o.spec).template).spec);
}

/** Container ports of a pod spec, by number and by name. */
export function containerPorts(spec: Rec): { number: number; name?: string }[] {
  return list(spec.containers).flatMap((c) =>
    list(c.ports).map((p) => ({ number: Number(p.containerPort), name: p.name as string | undefined })),
  );
}

/** Whether a Service port's targetPort lands on a container port of the pod spec. */
export function targetsContainer(servicePort: Rec, spec: Rec): boolean {
  const target = servicePort.targetPort ?? servicePort.port;
  return containerPorts(spec).some((p) =>
    typeof target === 'number' ? p.number === target : p.name === target || String(p.number) === target,
  );
}
