/** Every key the deploy action's main step saves for its post step (core.saveState / getState). */
export const STATE = {
  /** Path of the kind binary that created the cluster. */
  kindPath: 'kind-path',
  /** Name of the kind cluster to delete. */
  clusterName: 'cluster-name',
} as const;
