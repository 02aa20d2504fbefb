import { localRunner } from '../backup/runner.ts';
import type { Component, Endpoint } from '../catalog/types.ts';
import { addSecret } from '../util/redact.ts';
import { endpointKey, type Target } from './types.ts';

/**
 * Target local: each endpoint is the URL given with `--endpoint NAME=URL` (credentials in the URL).
 * Endpoints without a URL are not reachable: their checks are reported as not checked. Tools run
 * as local processes; `env` (PATH) decides which binaries run.
 */
export function localTarget(
  endpoints: ReadonlyMap<string, URL>,
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
): Target {
  for (const url of endpoints.values()) if (url.password) addSecret(decodeURIComponent(url.password));
  return {
    kind: 'local',
    namespace,
    runner: localRunner(env),
    endpoints,
    has: (c: Component, e: Endpoint) => endpoints.has(endpointKey(c, e)),
    resolve: async (c: Component, e: Endpoint) => {
      const url = endpoints.get(endpointKey(c, e));
      if (!url) throw new Error(`no --endpoint given for ${endpointKey(c, e)}`);
      return new URL(url);
    },
    close: async () => {},
  };
}
