/**
 * The `Cluster` contract (src/kube/types.ts) over client-node: exec, port-forward, secrets, and
 * namespace listing. Verify and backup code against the interface; this is the real implementation.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { formatDuration } from '../util/duration.ts';
import { describeApiError } from './errors.ts';
import { execInPod } from './exec.ts';
import { listenForwarded } from './port-forward.ts';
import { chooseForwardTarget, containerPortNamed } from './port-forward-target.ts';
import { checkApiReachable } from './reach.ts';
import type { Cluster, ExecRequest, ExecResult, Forwarded } from './types.ts';

export { exitCodeOfStatus } from './exec-status.ts';

export interface KubeClusterOptions {
  /** Told why a forwarded connection failed (the local client only sees a reset). */
  onForwardProblem?: (message: string) => void;
  /** Bound of each read and list (default 30 s): a wedged API server must not hang a check. */
  requestTimeoutMs?: number;
}

/**
 * A KubeCluster whose API server answered a bounded `GET /version`: verify, backup and restore on
 * target kube fail once, at once, when it does not (reach.ts), instead of per check at its deadline.
 */
export async function connectKubeCluster(
  kc: KubeConfig,
  opts: KubeClusterOptions & { preflightTimeoutMs?: number } = {},
): Promise<KubeCluster> {
  await checkApiReachable(kc, opts.preflightTimeoutMs);
  return new KubeCluster(kc, opts);
}

export class KubeCluster implements Cluster {
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;

  private readonly opts: KubeClusterOptions;

  constructor(kc: KubeConfig, opts: KubeClusterOptions = {}) {
    this.kc = kc;
    this.opts = opts;
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  /** `p`, or an error naming the server once `requestTimeoutMs` passes without an answer. */
  private bounded<T>(p: Promise<T>, what: string): Promise<T> {
    const ms = this.opts.requestTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${what}: no answer from the Kubernetes API server at ${this.kc.getCurrentCluster()?.server} within ${formatDuration(ms)}`,
            ),
          ),
        ms,
      );
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  /** See exec.ts: settles on status, close, error or deadline; closed without a status fails. */
  exec(req: ExecRequest): Promise<ExecResult> {
    return execInPod(this.kc, req, () => this.defaultContainer(req.namespace, req.pod));
  }

  /**
   * Forwards to a ready pod behind the Service, to the container port its targetPort names (the
   * EndpointSlice's resolved number; a name is looked up in the pod). Throws when there is none.
   */
  portForward(namespace: string, service: string, port: number): Promise<Forwarded> {
    const resolve = async () => {
      const [svc, slices] = await Promise.all([
        this.bounded(
          this.core.readNamespacedService({ name: service, namespace }),
          `reading service ${namespace}/${service}`,
        ).catch((err: unknown) => {
          throw new Error(`cannot read service ${namespace}/${service}: ${describeApiError(err)}`);
        }),
        this.bounded(
          this.discovery.listNamespacedEndpointSlice({
            namespace,
            labelSelector: `kubernetes.io/service-name=${service}`,
          }),
          `listing the EndpointSlices of service ${namespace}/${service}`,
        ),
      ]);
      const t = chooseForwardTarget(svc, port, slices.items);
      const target =
        typeof t.port === 'number'
          ? t.port
          : containerPortNamed(
              await this.bounded(
                this.core.readNamespacedPod({ name: t.pod, namespace }),
                `reading pod ${namespace}/${t.pod}`,
              ),
              t.port,
            );
      return { namespace, pod: t.pod, port: target };
    };
    return listenForwarded(this.kc, resolve, this.opts.onForwardProblem);
  }

  async readSecret(namespace: string, name: string, key: string): Promise<string | undefined> {
    try {
      const secret = await this.bounded(
        this.core.readNamespacedSecret({ name, namespace }),
        `reading secret ${namespace}/${name}`,
      );
      const value = secret.data?.[key];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async listPods(namespace: string): Promise<V1Pod[]> {
    return (await this.bounded(this.core.listNamespacedPod({ namespace }), `listing pods in ${namespace}`))
      .items;
  }
  async listServices(namespace: string): Promise<V1Service[]> {
    return (
      await this.bounded(this.core.listNamespacedService({ namespace }), `listing services in ${namespace}`)
    ).items;
  }
  async listEndpointSlices(namespace: string): Promise<V1EndpointSlice[]> {
    return (
      await this.bounded(
        this.discovery.listNamespacedEndpointSlice({ namespace }),
        `listing EndpointSlices in ${namespace}`,
      )
    ).items;
  }
  async listPersistentVolumeClaims(namespace: string): Promise<V1PersistentVolumeClaim[]> {
    return (
      await this.bounded(
        this.core.listNamespacedPersistentVolumeClaim({ namespace }),
        `listing PersistentVolumeClaims in ${namespace}`,
      )
    ).items;
  }

  /** The pod's default container: kubectl's annotation, else the first one. */
  private async defaultContainer(namespace: string, pod: string): Promise<string> {
    const p = await this.bounded(
      this.core.readNamespacedPod({ name: pod, namespace }),
      `reading pod ${namespace}/${pod}`,
    ).catch((err: unknown) => {
      throw new Error(describeApiError(err));
    });
    const annotated = p.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
    const name = annotated ?? p.spec?.containers[0]?.name;
    if (!name) throw new Error(`pod ${namespace}/${pod} has no containers`);
    return name;
  }
}
