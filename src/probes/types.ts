import type { CheckSpec, Component } from '../catalog/types.ts';
import type { Cluster } from '../kube/types.ts';
import type { RunScope } from './scope.ts';

/**
 * What one attempt of a probe concluded.
 * - `pass`: healthy.
 * - `fail`: a definite answer (wrong value, authentication refused): fail at once, no retry.
 * - `not-ready`: the service is not there yet (refused, reset, 503, "starting"): retry until the deadline.
 */
export type Outcome =
  | { kind: 'pass'; actual?: string }
  | { kind: 'fail'; reason: 'auth' | 'wrong-value' | 'error'; message: string; actual?: string }
  | { kind: 'not-ready'; message: string; actual?: string };

export interface ProbeContext {
  component: Component;
  check: CheckSpec;
  /** The endpoint URL, credentials included (never print it unredacted). Undefined for exec. */
  url?: URL;
  cluster?: Cluster;
  namespace: string;
  /** Aborted when this attempt runs out of time (the check's deadline). */
  signal: AbortSignal;
  /** Milliseconds this attempt may take. */
  timeoutMs: number;
  /** Connections shared across the run's checks (optional: probes open their own without it). */
  scope?: RunScope;
}

/** A check type. One file per type under src/probes/, registered in registry.ts. */
export interface Probe {
  type: string;
  /** Whether the check reaches the component through an endpoint (false: exec in a pod). */
  usesEndpoint: boolean;
  /** Parameters this type accepts besides the common ones (name, type, endpoint, target, timeout, settles). */
  params: readonly string[];
  /** Problems with a check's parameters, each naming the parameter; [] when valid. */
  validate(check: CheckSpec): ParamProblem[];
  /** What a healthy answer looks like, in words (for reports). */
  describe(check: CheckSpec): string;
  /** One attempt. May throw: thrown errors are classified by `classifyError`. */
  run(ctx: ProbeContext): Promise<Outcome>;
}

export interface ParamProblem {
  /** Path under the check, e.g. ['expect', 'status']. */
  path: (string | number)[];
  message: string;
}

export const pass = (actual?: string): Outcome => ({ kind: 'pass', actual });
export const wrong = (message: string, actual?: string): Outcome => ({
  kind: 'fail',
  reason: 'wrong-value',
  message,
  actual,
});
export const authFailed = (message: string, actual?: string): Outcome => ({
  kind: 'fail',
  reason: 'auth',
  message,
  actual,
});
export const notReady = (message: string, actual?: string): Outcome => ({
  kind: 'not-ready',
  message,
  actual,
});
