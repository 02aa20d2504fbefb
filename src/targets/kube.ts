import { kubeRunner } from '../backup/runner.ts';
import type { Component, Credential, Endpoint } from '../catalog/types.ts';
import type { Cluster, Forwarded } from '../kube/types.ts';
import { NotReadyError } from '../probes/classify.ts';
import { addSecret } from '../util/redact.ts';
import type { Target } from './types.ts';

/**
 * Target kube: each endpoint is reached through a port-forward to its Service's port, opened once
 * and shared by the checks that use it; credentials are read from the Secrets the catalog names.
 */
export function kubeTarget(cluster: Cluster, namespace: string): Target {
  const forwards = new Map<string, Promise<Forwarded>>();
  const forward = (service: string, port: number): Promise<Forwarded> => {
    const key = `${service}:${port}`;
    let f = forwards.get(key);
    if (!f) {
      f = cluster.portForward(namespace, service, port).catch((err: unknown) => {
        forwards.delete(key); // retry on the next attempt: the pods may not be ready yet
        throw new NotReadyError(
          `cannot port-forward to service/${service}:${port}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      });
      forwards.set(key, f);
    }
    return f;
  };
  const credential = async (c: Credential | undefined, what: string): Promise<string> => {
    if (c === undefined) return '';
    if (typeof c === 'string') return c; // a literal from the catalog (a user name): not a secret
    const value = await cluster.readSecret(namespace, c.secret, c.key);
    if (value === undefined) {
      if (c.optional) return '';
      throw new Error(`the ${what} comes from secret/${c.secret} key ${c.key}, which does not exist`);
    }
    addSecret(value);
    return value;
  };
  return {
    kind: 'kube',
    namespace,
    runner: kubeRunner(cluster, namespace),
    cluster,
    endpoints: new Map(),
    has: () => true,
    resolve: async (_component: Component, e: Endpoint) => {
      const [username, password] = await Promise.all([
        credential(e.username, 'user name'),
        credential(e.password, 'password'),
      ]);
      const { localPort } = await forward(e.service, e.port);
      return buildUrl(e, `127.0.0.1:${localPort}`, username, password);
    },
    close: async () => {
      const all = [...forwards.values()];
      forwards.clear();
      await Promise.all(all.map((f) => f.then((x) => x.close()).catch(() => {})));
    },
  };
}

/** `scheme://user:password@host/path` for an endpoint (pure). */
export function buildUrl(e: Endpoint, host: string, username: string, password: string): URL {
  const url = new URL(`${e.scheme}://${host}`);
  if (e.path) url.pathname = e.path;
  if (username) url.username = encodeURIComponent(username);
  if (password) url.password = encodeURIComponent(password);
  return url;
}
