// Masking on target kube: values read from Secrets are masked (and handed to core.setSecret through
// onSecret); a user name written in the catalog is not — masking `postgres` printed pods as `***-0`.
import { describe, expect, it, vi } from 'vitest';
import type { Component, Endpoint } from '../../src/catalog/types.ts';
import type { Cluster } from '../../src/kube/types.ts';
import { kubeTarget } from '../../src/targets/kube.ts';
import { addSecret, onSecret, redact } from '../../src/util/redact.ts';

/** Stand-in Cluster: one Secret, port-forwards that open nothing (no API server can run here). */
function standinCluster(secrets: Record<string, string>): Cluster {
  return {
    exec: async () => ({ exitCode: 0 }),
    portForward: async () => ({ localPort: 15432, close: async () => {} }),
    readSecret: async (_ns, name, key) => secrets[`${name}/${key}`],
    listPods: async () => [],
    listServices: async () => [],
    listEndpointSlices: async () => [],
    listPersistentVolumeClaims: async () => [],
  };
}

describe('secrets on target kube (src/util/redact.ts)', () => {
  it('masks the password read from the Secret, not the catalog literal user name; onSecret sees exactly the Secret value', async () => {
    const seen: string[] = [];
    const off = onSecret((v) => seen.push(v));
    const password = 'Kx9-standin-pg-password';
    const target = kubeTarget(standinCluster({ 'postgres-secret/POSTGRES_PASSWORD': password }), 'ns');
    const endpoint: Endpoint = {
      name: 'sql',
      scheme: 'postgresql',
      service: 'postgres',
      port: 5432,
      username: 'postgres',
      password: { secret: 'postgres-secret', key: 'POSTGRES_PASSWORD' },
    };
    const url = await target.resolve({ name: 'postgres' } as Component, endpoint);
    off();
    expect(String(url)).toContain('postgres:');
    expect(redact(`pod postgres-0 password ${password}`)).toBe('pod postgres-0 password ***');
    expect(seen).toContain(password);
    expect(seen).not.toContain('postgres');
  });
  it('a value registered before the listener is replayed to it (inputs read before runAction subscribes)', () => {
    addSecret('registered-before-listening');
    const seen: string[] = [];
    onSecret((v) => seen.push(v))();
    expect(seen).toContain('registered-before-listening');
  });

  it('in an action, a value read from a Secret reaches core.setSecret (::add-mask::), a catalog literal does not', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    try {
      await import('../../src/actions/inputs.ts');
      const target = kubeTarget(
        standinCluster({ 'redis-secret/REDIS_PASSWORD': 'Rd-standin-secret-77' }),
        'ns',
      );
      await target.resolve({ name: 'redis' } as Component, {
        name: 'resp',
        scheme: 'redis',
        service: 'redis',
        port: 6379,
        username: 'default-user',
        password: { secret: 'redis-secret', key: 'REDIS_PASSWORD' },
      });
    } finally {
      spy.mockRestore();
    }
    expect(out).toContain('::add-mask::Rd-standin-secret-77');
    expect(out).not.toContain('::add-mask::default-user');
  });
});
