/**
 * Simulation (test infrastructure): the EndpointSlice controller, after kubernetes/kubernetes
 * `pkg/controller/endpointslice/reconciler.go` and `staging/src/k8s.io/endpointslice/utils.go`
 * (podToEndpoint: ready = pod Ready, or publishNotReadyAddresses; serving = ready; terminating when
 * deleting), one slice per Service labelled `kubernetes.io/service-name`, ports resolved from the
 * Service's targetPort (a named port looked up in the pod's containers, `podutil.FindPort`).
 */
import type { Obj } from '../apiserver.ts';
import { podReady, type SimContext, selects } from '../context.ts';

const MANAGED_BY = 'endpointslice-controller.k8s.io';

function findPort(pod: Obj, targetPort: number | string): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  for (const c of pod.spec.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === targetPort) return p.containerPort;
  return undefined;
}

export function syncEndpointSlices(ctx: SimContext, svc: Obj): void {
  const ns = svc.metadata.namespace;
  if (!svc.spec?.selector) return;
  const sel = { matchLabels: svc.spec.selector };
  const pods = ctx
    .list('v1', 'Pod', ns)
    .filter(
      (p) =>
        selects(sel, p.metadata.labels) &&
        p.status?.podIP &&
        p.status.phase !== 'Succeeded' &&
        p.status.phase !== 'Failed',
    );
  const first = pods[0];
  const ports = (svc.spec.ports ?? []).map((sp: Obj) => ({
    name: sp.name ?? '',
    protocol: sp.protocol ?? 'TCP',
    port: first ? (findPort(first, sp.targetPort ?? sp.port) ?? sp.port) : sp.port,
  }));
  const endpoints = pods
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => {
      const ready = svc.spec.publishNotReadyAddresses === true || podReady(p);
      return {
        addresses: [p.status.podIP],
        conditions: { ready, serving: ready, terminating: false },
        ...(p.spec.hostname && p.spec.subdomain === svc.metadata.name ? { hostname: p.spec.hostname } : {}),
        nodeName: p.spec.nodeName,
        targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
      };
    });
  const name = `${svc.metadata.name}-sim`;
  const existing = ctx.get('discovery.k8s.io/v1', 'EndpointSlice', ns, name);
  const next = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      generateName: `${svc.metadata.name}-`,
      namespace: ns,
      labels: {
        'kubernetes.io/service-name': svc.metadata.name,
        'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
        ...(svc.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}),
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name,
          uid: svc.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
  if (
    existing &&
    JSON.stringify({ e: existing.endpoints, p: existing.ports }) ===
      JSON.stringify({ e: endpoints, p: ports })
  )
    return;
  ctx.api.put(next);
}
