/**
 * Which pod and which container port a Service port leads to: pure decisions over the Service and
 * its EndpointSlices (what kube-proxy routes by). The pod port-forward API takes a container port
 * number, so a named targetPort must be resolved here; the EndpointSlice already carries the number
 * the name resolves to in the pods it lists.
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';

export interface ForwardTarget {
  pod: string;
  /** Container port number, or the targetPort name when no slice resolved it. */
  port: number | string;
}

export function chooseForwardTarget(
  svc: V1Service,
  port: number,
  slices: readonly V1EndpointSlice[],
): ForwardTarget {
  const ns = svc.metadata?.namespace ?? '';
  const name = `service ${ns ? `${ns}/` : ''}${svc.metadata?.name}`;
  const ports = svc.spec?.ports ?? [];
  const svcPort = ports.find((p) => p.port === port);
  if (!svcPort) {
    const has = ports.map((p) => `${p.port}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none';
    throw new Error(`${name} has no port ${port}; it has ${has}`);
  }
  if ((svcPort.protocol ?? 'TCP') !== 'TCP')
    throw new Error(`${name} port ${port} is ${svcPort.protocol}; port-forward carries TCP only`);
  const portName = svcPort.name ?? '';
  let seen = 0;
  const notReady: string[] = [];
  for (const slice of slices) {
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === portName);
    if (!slicePort) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.targetRef?.kind !== 'Pod' || !ep.targetRef.name) continue;
      seen++;
      // an unset `ready` means unknown, which consumers are told to treat as ready
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) {
        notReady.push(ep.targetRef.name);
        continue;
      }
      return { pod: ep.targetRef.name, port: slicePort.port ?? targetPortOf(svcPort.targetPort, port) };
    }
  }
  const why =
    seen === 0
      ? svc.spec?.selector && Object.keys(svc.spec.selector).length
        ? 'no pod matches its selector yet'
        : 'it has no selector and no endpoints'
      : `${seen} endpoint(s), none ready (${notReady.slice(0, 5).join(', ')})`;
  throw new Error(`${name} has no ready pod to forward port ${port} to: ${why}`);
}

function targetPortOf(tp: number | string | undefined, port: number): number | string {
  if (tp === undefined) return port;
  return typeof tp === 'number' || /^\d+$/.test(tp) ? Number(tp) : tp;
}

/** A named container port in the pod's spec. */
export function containerPortNamed(pod: V1Pod, name: string): number {
  const found = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === name);
  if (!found) throw new Error(`pod ${pod.metadata?.name} has no container port named ${name}`);
  return found.containerPort;
}
