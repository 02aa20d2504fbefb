import type { Component, Endpoint } from '../catalog/types.ts';

/** How checks reach a component's endpoints: through the cluster (kube) or at a given URL (local). */
export interface Target {
  kind: 'kube' | 'local';
  /** Whether the endpoint can be reached at all on this target (local: a URL was given for it). */
  has(component: Component, endpoint: Endpoint): boolean;
  /** The endpoint's URL with its credentials. Throws NotReadyError while the way is not there yet. */
  resolve(component: Component, endpoint: Endpoint): Promise<URL>;
  /** Releases port-forwards and the like. */
  close(): Promise<void>;
}

export const endpointKey = (component: Component, endpoint: Endpoint): string =>
  `${component.name}.${endpoint.name}`;
