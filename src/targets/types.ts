import type { Runner } from '../backup/runner.ts';
import type { Component, Endpoint } from '../catalog/types.ts';
import type { Cluster } from '../kube/types.ts';

/**
 * Where the stack is, for verify and backup alike: the pods of a cluster (port-forward, exec,
 * Secrets) or local processes and the URLs given with `--endpoint`.
 */
export interface Target {
  kind: 'kube' | 'local';
  namespace: string;
  /** Runs tools where the data is: exec in a pod (kube) or a local process (local). */
  runner: Runner;
  /** Target kube: the cluster. */
  cluster?: Cluster;
  /** Target local: `component.endpoint` → URL. Empty on kube. */
  endpoints: ReadonlyMap<string, URL>;
  /** Whether the endpoint can be reached at all on this target (local: a URL was given for it). */
  has(component: Component, endpoint: Endpoint): boolean;
  /** The endpoint's URL with its credentials. Throws NotReadyError while the way is not there yet. */
  resolve(component: Component, endpoint: Endpoint): Promise<URL>;
  /** Releases port-forwards and the like. */
  close(): Promise<void>;
}

export const endpointKey = (component: Component, endpoint: Endpoint): string =>
  `${component.name}.${endpoint.name}`;
