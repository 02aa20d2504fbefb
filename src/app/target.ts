/**
 * The one way verify, backup, restore and drills reach the stack: target kube (a kubeconfig) or
 * target local (`--endpoint NAME=URL`). client-node loads only for target kube (it is heavy).
 */
import type { Stack } from '../catalog/types.ts';
import type { Cluster } from '../kube/types.ts';
import { parseEndpointFlags } from '../targets/endpoints.ts';
import { localTarget } from '../targets/local.ts';
import type { Target } from '../targets/types.ts';
import { UsageError } from '../util/errors.ts';
import { addSecret } from '../util/redact.ts';
import { choice, invalid, list, type Setting } from './settings.ts';

export interface TargetSettings {
  target: Setting<string>;
  /** `COMPONENT[.ENDPOINT]=URL` lines (target local). */
  endpoints: Setting<string | readonly string[] | undefined>;
  /** A kubeconfig path, or its content (from a secret). Empty: $KUBECONFIG or ~/.kube/config. */
  kubeconfig: Setting<string | undefined>;
  context: Setting<string | undefined>;
}

export type TargetKind = 'kube' | 'local';

/** The CLI flags of the target settings, as lower layers name them (see settings.ts `speaking`). */
export const TARGET_FLAGS = {
  target: '--target',
  endpoints: '--endpoint',
  kubeconfig: '--kubeconfig',
  context: '--context',
  catalog: '--catalog',
} as const;

export const targetKind = (s: TargetSettings): TargetKind =>
  choice(s.target, ['kube', 'local'] as const, 'kube');

/** Kubeconfig content (a secret pasted inline) or a path: content has a newline or starts with YAML. */
export function kubeconfigSource(s: Setting<string | undefined>): { path?: string; content?: string } {
  const v = s.value?.trim() ?? '';
  if (!v) return {};
  if (v.includes('\n') || /^(apiVersion|kind|clusters|contexts)\s*:/.test(v)) {
    addSecret(v);
    return { content: v };
  }
  return { path: v };
}

/** Parses and checks the endpoints of target local, before anything connects (pure). */
export function endpointMap(stack: Stack, s: TargetSettings): Map<string, URL> {
  return parseEndpointFlags(stack, list(s.endpoints));
}

/** Checks the settings as a whole (no I/O): endpoints only on local, a kubeconfig only on kube. */
export function checkTarget(stack: Stack, s: TargetSettings): Map<string, URL> {
  const kind = targetKind(s);
  const endpoints = endpointMap(stack, s);
  if (kind === 'kube' && endpoints.size)
    throw invalid(s.endpoints, 'is for target local; target kube reaches components through the cluster');
  if (kind === 'local' && s.kubeconfig.value)
    throw invalid(s.kubeconfig, 'is for target kube; target local uses the endpoint URLs');
  return endpoints;
}

/** Opens the target: a client-node cluster for kube, local processes and the given URLs for local. */
export async function openTarget(
  stack: Stack,
  s: TargetSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  const endpoints = checkTarget(stack, s);
  if (targetKind(s) === 'local') return localTarget(endpoints, stack.namespace, env);
  const cluster = await connectCluster(s);
  const { kubeTarget } = await import('../targets/kube.ts');
  return kubeTarget(cluster, stack.namespace);
}

export async function connectCluster(s: Pick<TargetSettings, 'kubeconfig' | 'context'>): Promise<Cluster> {
  const [{ connectKubeCluster }, { loadKubeConfig }] = await Promise.all([
    import('../kube/cluster.ts'),
    import('../kube/config.ts'),
  ]);
  const src = kubeconfigSource(s.kubeconfig);
  try {
    // a bounded GET /version first: an unreachable API server fails once, now (src/kube/reach.ts)
    return await connectKubeCluster(
      loadKubeConfig({ ...src, ...(s.context.value ? { context: s.context.value } : {}) }),
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // config.ts names the CLI flags; say which setting it was
    const body = err.where ? err.message.slice(err.where.length + 2) : err.message;
    const about = err.where === '--context' ? s.context : s.kubeconfig;
    throw invalid(about, body);
  }
}
