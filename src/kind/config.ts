/** The generated kind cluster config (pure). */
import { stringify } from 'yaml';

export interface KindConfigOptions {
  name: string;
  nodeImage: string;
  /** Local registry container reachable as `<name>:<port>` from the nodes, mirrored at localhost:<hostPort>. */
  registry?: { name: string; port: number; hostPort: number };
}

export function kindConfig(opts: KindConfigOptions): string {
  const config: Record<string, unknown> = {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: opts.name,
    nodes: [{ role: 'control-plane', image: opts.nodeImage }],
  };
  if (opts.registry) {
    // containerd reads per-registry hosts from certs.d (kind's documented local-registry setup)
    config.containerdConfigPatches = [
      '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"',
    ];
  }
  return stringify(config);
}

/** hosts.toml that points `localhost:<hostPort>` inside a node at the registry container. */
export function registryHostsToml(registry: NonNullable<KindConfigOptions['registry']>): string {
  return `[host."http://${registry.name}:${registry.port}"]\n`;
}

/** The ConfigMap kind documents for advertising a local registry (KEP-1755). */
export function localRegistryHostingConfigMap(hostPort: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'local-registry-hosting', namespace: 'kube-public' },
    data: {
      'localRegistryHosting.v1': `host: "localhost:${hostPort}"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`,
    },
  };
}
