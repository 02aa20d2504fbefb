import type { Cluster } from '../kube/types.ts';
import { UsageError } from '../util/errors.ts';

/** Where the kubeconfig comes from (a path, or its content from a secret) and which context. */
export interface ClusterSource {
  kubeconfigPath?: string;
  kubeconfigContent?: string;
  context?: string;
}

export type ClusterFactory = (source: ClusterSource) => Promise<Cluster>;

let factory: ClusterFactory | undefined;

/** src/kube registers its client-node implementation of the Cluster contract here. */
export function setClusterFactory(f: ClusterFactory): void {
  factory = f;
}

/** The Cluster for target kube, through the registered implementation. */
export async function connectCluster(source: ClusterSource): Promise<Cluster> {
  if (!factory)
    throw new UsageError(
      'target kube is not available in this build: no cluster implementation is registered',
    );
  return factory(source);
}
