/**
 * Is the API server there at all? One bounded `GET /version` before anything else runs against the
 * cluster, so an unreachable server is one clear error naming the URL and the cause (refused,
 * timeout, certificate) instead of every check retrying to its own deadline.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { FailedError } from '../util/errors.ts';
import { redactUrl } from '../util/redact.ts';
import { KubeClient } from './client.ts';
import { apiError, connectionCause } from './errors.ts';

export const PREFLIGHT_TIMEOUT_MS = 5000;

/** Resolves with the server's version; any HTTP answer counts as reachable (auth is each request's). */
export async function checkApiReachable(kc: KubeConfig, timeoutMs = PREFLIGHT_TIMEOUT_MS): Promise<string> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  try {
    return await new KubeClient(kc).serverVersion(timeoutMs);
  } catch (err) {
    if (apiError(err).code !== undefined) return 'unknown';
    const cause =
      connectionCause(err) ??
      (err instanceof Error && err.name === 'AbortError'
        ? `timed out after ${timeoutMs}ms`
        : apiError(err).message);
    throw new FailedError(`cannot reach the Kubernetes API server at ${redactUrl(server)}: ${cause}`);
  }
}
