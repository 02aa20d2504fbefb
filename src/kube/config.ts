/** Builds a client-node KubeConfig from a kubeconfig path or its content, plus an optional context. */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../util/errors.ts';

export interface KubeconfigSource {
  /** Path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config). */
  path?: string;
  /** Kubeconfig content (from a secret); never printed. */
  content?: string;
  context?: string;
}

/** The three ways to say which cluster, for every "no kubeconfig" message. */
export const NO_KUBECONFIG_HINT =
  'pass --kubeconfig FILE (action input "kubeconfig"), set KUBECONFIG, or use --target local to check services on this machine';

/**
 * client-node's `loadFromDefault` ends, when it finds no KUBECONFIG, no ~/.kube/config and no
 * service-account token, with an unauthenticated `http://localhost:8080` cluster in a context named
 * `loaded-context` (kubernetes-client/javascript `src/config.ts` loadFromDefault →
 * loadFromClusterAndUser). That is never what a user meant.
 */
export function isLocalhostFallback(kc: KubeConfig): boolean {
  const contexts = kc.getContexts();
  return (
    contexts.length === 1 &&
    contexts[0]!.name === 'loaded-context' &&
    kc.getCurrentCluster()?.server === 'http://localhost:8080'
  );
}

export function loadKubeConfig(src: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (src.content) kc.loadFromString(src.content);
    else if (src.path) kc.loadFromString(readFileSync(src.path, 'utf8'));
    else kc.loadFromDefault();
  } catch (err) {
    const fromEnv =
      !src.content && !src.path && process.env.KUBECONFIG
        ? `KUBECONFIG (${process.env.KUBECONFIG})`
        : undefined;
    const where = src.content ? 'the kubeconfig content' : (src.path ?? fromEnv ?? 'the default kubeconfig');
    // the content may hold credentials: say what failed, not what it contained
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a valid kubeconfig';
    throw new UsageError(`cannot load ${where}: ${why}`, src.path ? '--kubeconfig' : undefined);
  }
  if (!src.content && !src.path && isLocalhostFallback(kc))
    throw new UsageError(
      `no kubeconfig: none given, KUBECONFIG is not set and ~/.kube/config does not exist; ${NO_KUBECONFIG_HINT}`,
    );
  if (src.context) {
    if (!kc.getContexts().some((c) => c.name === src.context))
      throw new UsageError(
        `no context "${src.context}" in the kubeconfig; it has ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }`,
        '--context',
      );
    kc.setCurrentContext(src.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError('the kubeconfig has no current cluster; pass --context');
  return kc;
}
