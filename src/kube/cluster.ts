/**
 * The `Cluster` contract (src/kube/types.ts) over client-node: exec, port-forward, secrets, and
 * namespace listing. Verify and backup code against the interface; this is the real implementation.
 */
import { createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  CoreV1Api,
  DiscoveryV1Api,
  Exec,
  type KubeConfig,
  PortForward,
  type V1EndpointSlice,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Service,
  type V1Status,
} from '@kubernetes/client-node';
import type { Cluster, ExecRequest, ExecResult, Forwarded } from './types.ts';

/** Exit code from the V1Status that exec sends on channel 3. */
export function exitCodeOfStatus(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 1;
}

export class KubeCluster implements Cluster {
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  /**
   * Resolves on the first of: status callback, socket close, socket error, deadline. A stream that
   * closed without a status is a failure, never exit 0 (the callback is not always called).
   */
  async exec(req: ExecRequest): Promise<ExecResult> {
    const exec = new Exec(this.kc);
    const container = req.container ?? (await this.firstContainer(req.namespace, req.pod));
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        fn();
      };
      if (req.timeoutMs)
        timer = setTimeout(
          () =>
            settle(() => reject(new Error(`exec in ${req.pod} did not finish within ${req.timeoutMs}ms`))),
          req.timeoutMs,
        );
      exec
        .exec(
          req.namespace,
          req.pod,
          container,
          [...req.command],
          req.stdout ?? new PassThrough().resume(),
          req.stderr ?? new PassThrough().resume(),
          req.stdin ?? null,
          false,
          (status) => settle(() => resolve({ exitCode: exitCodeOfStatus(status) })),
        )
        .then(
          (ws) => {
            ws.on('close', () =>
              // give a status frame that arrived with the close a moment to be handled first
              setImmediate(() =>
                settle(() =>
                  reject(new Error(`exec in ${req.pod}: connection closed without an exit status`)),
                ),
              ),
            );
            ws.on('error', (err: Error) => settle(() => reject(err)));
            if (settled) ws.close();
          },
          (err) => settle(() => reject(err)),
        );
    });
  }

  async portForward(namespace: string, service: string, port: number): Promise<Forwarded> {
    const svc = await this.core.readNamespacedService({ name: service, namespace });
    const svcPort = svc.spec?.ports?.find((p) => p.port === port);
    if (!svcPort) throw new Error(`service ${service} has no port ${port}`);
    const pod = await this.readyPodFor(namespace, service, svcPort.name);
    // a named targetPort must be mapped to the container port number ourselves
    let target: number;
    const tp = svcPort.targetPort ?? port;
    if (typeof tp === 'number') target = tp;
    else if (/^\d+$/.test(String(tp))) target = Number(tp);
    else {
      const found = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === tp);
      if (!found) throw new Error(`pod ${pod.metadata?.name} has no container port named ${tp}`);
      target = found.containerPort;
    }
    const forwarder = new PortForward(this.kc);
    const podName = pod.metadata!.name!;
    const server: Server = createServer((socket) => {
      forwarder.portForward(namespace, podName, [target], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const localPort = typeof address === 'object' && address ? address.port : 0;
    return {
      localPort,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  async readSecret(namespace: string, name: string, key: string): Promise<string | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace });
      const value = secret.data?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async listPods(namespace: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace })).items;
  }
  async listServices(namespace: string): Promise<V1Service[]> {
    return (await this.core.listNamespacedService({ namespace })).items;
  }
  async listEndpointSlices(namespace: string): Promise<V1EndpointSlice[]> {
    return (await this.discovery.listNamespacedEndpointSlice({ namespace })).items;
  }
  async listPersistentVolumeClaims(namespace: string): Promise<V1PersistentVolumeClaim[]> {
    return (await this.core.listNamespacedPersistentVolumeClaim({ namespace })).items;
  }

  private async firstContainer(namespace: string, pod: string): Promise<string> {
    const p = await this.core.readNamespacedPod({ name: pod, namespace });
    return p.spec!.containers[0]!.name;
  }

  /** A Ready pod behind the service, from its EndpointSlices (what kube-proxy would route to). */
  private async readyPodFor(
    namespace: string,
    service: string,
    portName: string | undefined,
  ): Promise<V1Pod> {
    const slices = await this.discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
    });
    for (const s of slices.items) {
      if (!(s.ports ?? []).some((p) => (p.name ?? '') === (portName ?? ''))) continue;
      const ep = (s.endpoints ?? []).find((e) => e.conditions?.ready && e.targetRef?.kind === 'Pod');
      if (ep?.targetRef?.name) return this.core.readNamespacedPod({ name: ep.targetRef.name, namespace });
    }
    throw new Error(`service ${service} has no ready pod to forward to`);
  }
}
