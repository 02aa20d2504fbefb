/** Registers the client-node Cluster implementation for verify/backup (src/targets/connect.ts). */
import { setClusterFactory } from '../targets/connect.ts';
import { KubeCluster } from './cluster.ts';
import { loadKubeConfig } from './config.ts';

setClusterFactory(
  async (src) =>
    new KubeCluster(
      loadKubeConfig({
        ...(src.kubeconfigPath ? { path: src.kubeconfigPath } : {}),
        ...(src.kubeconfigContent ? { content: src.kubeconfigContent } : {}),
        ...(src.context ? { context: src.context } : {}),
      }),
    ),
);
