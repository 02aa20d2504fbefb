/**
 * Simulation (test infrastructure): a container's environment as the kubelet builds it —
 * kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go` makeEnvironmentVariables (envFrom, then env
 * with valueFrom, then the service variables not already set), `pkg/kubelet/envvars/envvars.go`
 * FromServices (service links: `{SVC}_SERVICE_HOST`, `{SVC}_PORT=tcp://IP:PORT`, ...; only when
 * `enableServiceLinks` is not false, except the `kubernetes` master service, always), and
 * `third_party/forked/golang/expansion/expand.go` ($(VAR) references, `$$` escapes).
 * A missing Secret/ConfigMap or key is an error whose message is the kubelet's; the kubelet reports
 * it as the container's CreateContainerConfigError.
 */
import type { Obj } from './apiserver.ts';

export class EnvError extends Error {}

export interface EnvSources {
  pod: Obj;
  configMap(name: string): Obj | undefined;
  secret(name: string): Obj | undefined;
  /** Services of the pod's namespace, and the `kubernetes` Service of `default`. */
  services: Obj[];
  master?: Obj;
}

const envName = (svc: string) => svc.toUpperCase().replace(/-/g, '_');

/** envvars.go FromServices for one Service. */
export function serviceLinkVars(svc: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None') return out;
  const name = envName(svc.metadata.name);
  const ports: Obj[] = svc.spec.ports ?? [];
  out[`${name}_SERVICE_HOST`] = ip;
  if (ports[0]) out[`${name}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) if (p.name) out[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  ports.forEach((p, i) => {
    const proto = String(p.protocol ?? 'TCP');
    const url = `${proto.toLowerCase()}://${ip}:${p.port}`;
    const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
    if (i === 0) out[`${name}_PORT`] = url;
    out[prefix] = url;
    out[`${prefix}_PROTO`] = proto.toLowerCase();
    out[`${prefix}_PORT`] = String(p.port);
    out[`${prefix}_ADDR`] = ip;
  });
  return out;
}

/** expansion.Expand: `$(NAME)` from the mapping when defined, `$$` → `$`, anything else kept. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  return input.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    const v = lookup(name ?? '');
    return v === undefined ? m : v;
  });
}

const decode = (s: Obj, key: string): string | undefined => {
  if (s.data?.[key] !== undefined) return Buffer.from(s.data[key], 'base64').toString();
  return s.stringData?.[key];
};

function fieldValue(pod: Obj, path: string): string {
  const labels = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labels) return pod.metadata?.[labels[1]!]?.[labels[2]!] ?? '';
  const values: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
  };
  return values[path] ?? '';
}

/** The container's environment, or EnvError with the kubelet's message. */
export function containerEnv(container: Obj, src: EnvSources): Record<string, string> {
  const { pod } = src;
  const ns = pod.metadata.namespace;
  const serviceEnv: Record<string, string> = {};
  const linked = pod.spec.enableServiceLinks === false ? [] : src.services;
  for (const svc of [...linked, ...(src.master ? [src.master] : [])])
    Object.assign(serviceEnv, serviceLinkVars(svc));
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = src.configMap(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new EnvError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries<string>(cm.data ?? {})) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const s = src.secret(from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new EnvError(`secret "${from.secretRef.name}" not found`);
      }
      for (const k of Object.keys(s.data ?? {})) env[prefix + k] = decode(s, k)!;
    }
  }
  const lookup = (n: string) => env[n] ?? serviceEnv[n];
  for (const e of container.env ?? []) {
    let value = '';
    if (e.value !== undefined) value = expand(String(e.value), lookup);
    else if (e.valueFrom?.fieldRef) value = fieldValue(pod, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.resourceFieldRef) value = '0';
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key, optional } = e.valueFrom.configMapKeyRef;
      const cm = src.configMap(name);
      if (!cm) {
        if (optional) continue;
        throw new EnvError(`configmap "${name}" not found`);
      }
      if (cm.data?.[key] === undefined) {
        if (optional) continue;
        throw new EnvError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
      value = cm.data[key];
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key, optional } = e.valueFrom.secretKeyRef;
      const s = src.secret(name);
      if (!s) {
        if (optional) continue;
        throw new EnvError(`secret "${name}" not found`);
      }
      const v = decode(s, key);
      if (v === undefined) {
        if (optional) continue;
        throw new EnvError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
      value = v;
    }
    env[e.name] = value;
  }
  for (const [k, v] of Object.entries(serviceEnv)) if (!(k in env)) env[k] = v;
  return env;
}
