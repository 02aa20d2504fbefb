import { describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/load.ts';
import { type CredentialPolicy, NO_CREDENTIAL_POLICY, policyFindings } from '../../src/manifests/policy.ts';
import type { KubeObject } from '../../src/manifests/render.ts';

const secret = (data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'ns' },
  stringData: data,
});
const policy = loadStack('manifests/stack.yaml').policy;
const credentialFindings = (o: KubeObject, profile: string, p: CredentialPolicy = policy) =>
  policyFindings([o], profile, p).filter((f) => f.rule === 'default-credential');

describe('default credentials come from the catalog policy', () => {
  it('reports the seed defaults: errors under a strict sizing, warnings elsewhere', () => {
    const o = secret({ POSTGRES_PASSWORD: 'changeme', NACOS_PASSWORD: 'nacos', USER: 'admin' });
    expect(credentialFindings(o, 'production').map((f) => [f.severity, (f.path ?? []).join('.')])).toEqual([
      ['error', 'stringData.POSTGRES_PASSWORD'],
      ['error', 'stringData.NACOS_PASSWORD'],
    ]);
    expect(credentialFindings(o, 'kind').every((f) => f.severity === 'warning')).toBe(true);
  });
  it('a catalog without a policy flags nothing, and a real password is never flagged', () => {
    expect(credentialFindings(secret({ PASSWORD: 'changeme' }), 'production', NO_CREDENTIAL_POLICY)).toEqual(
      [],
    );
    expect(credentialFindings(secret({ PASSWORD: 'Xq3!v9-long-and-real' }), 'production')).toEqual([]);
  });
});
