import type { Stack } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import { evaluate, namespaceLabelsFrom, readPolicies } from './evaluate.ts';
import { buildModel, type ComponentPods, showLabels } from './model.ts';

/** One connection a throwaway pod makes on the cluster, and what the policies must do with it. */
export interface NetworkProbe {
  expect: 'allowed' | 'denied';
  /** Who the probing pod stands for. */
  as: string;
  /** `--labels` for `kubectl run` (empty: an unlabelled pod). */
  labels: string;
  /** A Service of the destination and its port (what `nc` dials; the policy sees the container port). */
  host: string;
  port: number;
  /**
   * A label selector, for traffic within one component: dial a running pod it selects by its IP on
   * `podPort` (the container port) instead of the Service. The probing pod carries the component's
   * labels, so the Service selects it too: the EndpointSlice controller lists every ready pod whose
   * labels match the selector, and a container without a readiness probe counts as ready once it
   * runs (docs: "EndpointSlices"; "Pod Lifecycle", container probes: readinessProbe "If a container
   * does not provide a readiness probe, the default state is Success"). kube-proxy may then send the
   * probe's connection to the probe itself, where nothing listens. Empty for every other probe.
   */
  pod: string;
  podPort: number;
  why: string;
}

/**
 * Two probes for the deployed components, decided offline: a `dependsOn` edge between deployed
 * components (its own pods when none) must connect; an unlabelled pod (the seed's 故障排查 busybox)
 * dialling the same Service and port must not. Both are checked here with the evaluator first, so
 * the cluster is asked exactly what the offline proof claims.
 */
export function networkProbes(
  stack: Stack,
  objects: readonly KubeObject[],
  deployed: readonly string[],
): NetworkProbe[] {
  const model = buildModel(stack, objects);
  const policies = readPolicies(objects, stack.namespace);
  const nsLabels = namespaceLabelsFrom(objects);
  const candidates: { from: ComponentPods; to: ComponentPods; why: string }[] = [];
  for (const name of deployed) {
    const to = model.components.get(name);
    if (!to) continue;
    for (const dep of deployed) {
      const from = model.components.get(dep);
      if (from && stack.components[dep]?.dependsOn.includes(name))
        candidates.push({ from, to, why: `dependsOn edge ${dep} → ${name}` });
    }
  }
  for (const name of deployed) {
    const c = model.components.get(name);
    if (c) candidates.push({ from: c, to: c, why: `traffic within ${name}` });
  }
  for (const { from, to, why } of candidates) {
    const dial = serviceDial(stack, objects, to);
    if (!dial) continue;
    const dst = to.pods.find((p) => p.ports.some((x) => x.port === dial.containerPort)) ?? to.pods[0]!;
    const port = { port: dial.containerPort, protocol: 'TCP' };
    const allowed = evaluate(
      policies,
      nsLabels,
      { namespace: stack.namespace, labels: from.selector },
      dst,
      port,
    );
    const stranger = evaluate(policies, nsLabels, { namespace: stack.namespace, labels: {} }, dst, port);
    if (!allowed.verdict.allowed || stranger.verdict.allowed) continue;
    const within = from === to;
    return [
      {
        expect: 'allowed',
        as: from.name,
        labels: showLabels(from.selector),
        host: dial.service,
        port: dial.port,
        pod: within ? showLabels(to.selector) : '',
        podPort: within ? dial.containerPort : 0,
        why,
      },
      {
        expect: 'denied',
        as: '(unlabelled pod)',
        labels: '',
        host: dial.service,
        port: dial.port,
        pod: '',
        podPort: 0,
        why: `no catalog edge from an unlabelled pod to ${to.name}`,
      },
    ];
  }
  return [];
}

function serviceDial(stack: Stack, objects: readonly KubeObject[], c: ComponentPods) {
  for (const ref of stack.components[c.name]?.services ?? []) {
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === ref.name);
    const ports =
      (svc?.spec as { ports?: { port?: number; targetPort?: unknown }[] } | undefined)?.ports ?? [];
    for (const sp of ports) {
      if (typeof sp.port !== 'number' || !ref.ports.includes(sp.port)) continue;
      const hit = c.servicePorts.find(
        (p) =>
          p.port === (typeof sp.targetPort === 'number' ? sp.targetPort : undefined) ||
          c.pods.some((pod) => pod.ports.some((x) => x.name === sp.targetPort && x.port === p.port)) ||
          (sp.targetPort === undefined && p.port === sp.port),
      );
      if (hit) return { service: ref.name, port: sp.port, containerPort: hit.port };
    }
  }
  return undefined;
}
