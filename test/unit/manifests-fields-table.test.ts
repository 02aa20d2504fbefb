import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFieldTypes, serialize, TABLE } from '../../scripts/field-types.ts';
import { unknownFieldFindings } from '../../src/manifests/fields.ts';

describe('generated field table (src/manifests/generated/field-types.json)', () => {
  it('matches the installed @kubernetes/client-node (regenerate with npm run gen:field-types)', async () => {
    const fresh = serialize(await buildFieldTypes());
    // compared as text, so a changed field order (it picks the "did you mean" hint) is drift too
    expect(readFileSync(TABLE, 'utf8')).toBe(fresh);
  }, 60_000);

  it('holds the models a stack uses, with their fields typed as client-node types them', () => {
    const { types } = JSON.parse(readFileSync(TABLE, 'utf8')) as {
      types: Record<string, Record<string, string>>;
    };
    expect(types.V1Deployment?.spec).toBe('V1DeploymentSpec');
    expect(types.V1PodSpec?.containers).toBe('Array<V1Container>');
    expect(types.V1ObjectMeta?.labels).toBe('{ [key: string]: string; }');
    expect(types.V1ServicePort?.targetPort).toBe('IntOrString');
  });

  it('finds an unknown field deep in a pod template through the table', () => {
    const findings = unknownFieldFindings({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1', resourcez: {} }] },
        },
      },
    });
    expect(findings.map((f) => [f.path, f.message])).toEqual([
      [
        ['spec', 'template', 'spec', 'containers', 0, 'resourcez'],
        'Deployment web: unknown field "spec.template.spec.containers[0].resourcez" (did you mean "resources"?)',
      ],
    ]);
  });
});
