import type { Component, Endpoint, Stack } from '../catalog/types.ts';

/**
 * The component whose Service an endpoint reaches when that is another component, not verified in
 * this run (pure). A `metrics` check of postgres asks the stack's Prometheus (endpoint `metrics` →
 * Service prometheus): on target kube, verifying postgres alone must not wait out its deadline on
 * a Prometheus that was never deployed, so such a check is reported as not checked, naming why.
 */
export function absentOwner(
  stack: Stack,
  component: Component,
  endpoint: Endpoint,
  verified: readonly Component[],
): string | undefined {
  if (component.services.some((s) => s.name === endpoint.service)) return undefined;
  const owner = Object.values(stack.components).find((c) =>
    c.services.some((s) => s.name === endpoint.service),
  );
  if (!owner || owner.name === component.name) return undefined;
  return verified.some((c) => c.name === owner.name) ? undefined : owner.name;
}
