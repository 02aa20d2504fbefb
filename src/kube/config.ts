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

export function loadKubeConfig(src: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (src.content) kc.loadFromString(src.content);
    else if (src.path) kc.loadFromString(readFileSync(src.path, 'utf8'));
    else kc.loadFromDefault();
  } catch (err) {
    const where = src.content ? 'the kubeconfig content' : (src.path ?? 'the default kubeconfig');
    // the content may hold credentials: say what failed, not what it contained
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a valid kubeconfig';
    throw new UsageError(`cannot load ${where}: ${why}`, src.path ? '--kubeconfig' : undefined);
  }
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
