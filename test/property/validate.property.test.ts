import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { loadStack, parseCatalog } from '../../src/catalog/load.ts';
import { main } from '../../src/cli/main.ts';
import { unknownFieldFindings } from '../../src/manifests/fields.ts';
import { schemaFindings } from '../../src/manifests/kube-schema.ts';
import { policyFindings } from '../../src/manifests/policy.ts';
import { referenceFindings } from '../../src/manifests/references.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { validateStack } from '../../src/manifests/validate.ts';
import type { Problem } from '../../src/util/problem.ts';
import { brokenStack, describeWithKubectl, GOOD } from '../unit/validate-helpers.ts';

/** The real catalog's credential policy, so arbitrary objects meet the rule with real data. */
const SEED_POLICY = loadStack('manifests/stack.yaml').policy;

// Arbitrary input must never crash the loaders: it becomes problems (exit 1) or a usage error
// (exit 2), each with a message, never an exception or a stack trace.

const TOKENS = [
  'apiVersion: kindling.dev/v1alpha1\n',
  'kind: Stack\n',
  'components:\n',
  'profiles:\n',
  'render:\n',
  '  ',
  '- ',
  ': ',
  '\n',
  '{',
  '}',
  '[',
  ']',
  ',',
  '---\n',
  '&a ',
  '*a',
  '<<: *a\n',
  '!!str ',
  '!!binary ',
  '"',
  "'",
  '|\n',
  '>\n',
  '# c\n',
  '? ',
  '\t',
  '%YAML 1.2\n',
  'constructor',
  '__proto__',
];
const yamlish = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })), { maxLength: 40 })
  .map((parts) => parts.join(''));

/** Keys that trip code using `in` or plain-object lookups. */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('constructor', '__proto__', 'toString', 'name', 'spec'),
);
const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 5 }),
  ),
})).node;

const wellFormed = (problems: readonly Problem[]) => {
  for (const p of problems) {
    expect(['error', 'warning']).toContain(p.severity);
    expect(typeof p.message).toBe('string');
    expect(p.message.length).toBeGreaterThan(0);
    expect(typeof p.rule).toBe('string');
  }
};

describe('property: the catalog loader never throws', () => {
  it('on arbitrary YAML-ish text', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        const r = parseCatalog('stack.yaml', text, '/tmp');
        wellFormed(r.problems);
        expect(r.stack !== undefined || r.problems.some((p) => p.severity === 'error')).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('on arbitrary object trees, bare or shaped like a catalog', () => {
    const catalogLike = fc.record({
      apiVersion: fc.constantFrom('kindling.dev/v1alpha1', 'v1'),
      kind: fc.constant('Stack'),
      namespace: fc.oneof(fc.constant('demo'), tree),
      render: fc.oneof(fc.constant({ base: '.', overlays: { kind: 'k' } }), tree),
      profiles: fc.dictionary(key, fc.oneof(fc.array(key, { minLength: 1, maxLength: 3 }), tree), {
        maxKeys: 3,
      }),
      components: fc.dictionary(
        key,
        fc.oneof(
          fc.record({
            group: key,
            manifests: fc.constant(['a.yaml']),
            workloads: fc.constant([]),
            dependsOn: fc.array(key, { maxLength: 3 }),
          }),
          tree,
        ),
        { maxKeys: 4 },
      ),
    });
    fc.assert(
      fc.property(fc.oneof(tree, catalogLike), (value) => {
        const r = parseCatalog('stack.yaml', stringify(value), '/tmp');
        wellFormed(r.problems);
      }),
      { numRuns: 400 },
    );
  });
});

describeWithKubectl('property: the manifest checks never throw', () => {
  const kinds = fc.constantFrom(
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'Job',
    'CronJob',
    'Pod',
    'Service',
    'Secret',
    'ConfigMap',
    'Namespace',
    'Widget',
  );
  const apiVersions = fc.constantFrom(
    'v1',
    'apps/v1',
    'batch/v1',
    'example.com/v1',
    'not a version',
    'apps/v9',
  );
  const container = fc.record(
    {
      name: tree,
      image: fc.oneof(fc.string(), tree),
      ports: tree,
      env: tree,
      envFrom: tree,
      resources: tree,
      readinessProbe: tree,
    },
    { requiredKeys: [] },
  );
  const podSpec = fc.record(
    {
      containers: fc.oneof(fc.array(container, { maxLength: 2 }), tree),
      initContainers: tree,
      volumes: tree,
    },
    { requiredKeys: [] },
  );
  const object = fc
    .record(
      {
        apiVersion: apiVersions,
        kind: kinds,
        metadata: fc.record(
          {
            name: fc.string({ maxLength: 8 }),
            namespace: fc.oneof(fc.constant('demo'), fc.string()),
            labels: tree,
          },
          { requiredKeys: ['name'] },
        ),
        spec: fc.oneof(
          tree,
          fc.record(
            {
              selector: tree,
              ports: tree,
              template: fc.record({ metadata: tree, spec: podSpec }, { requiredKeys: [] }),
            },
            { requiredKeys: [] },
          ),
        ),
        data: tree,
        stringData: tree,
      },
      { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
    )
    .map((o) => o as unknown as KubeObject);

  it('on arbitrary objects of real and unknown kinds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(object, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('kind', 'production'),
        async (objects, profile) => {
          const findings = [
            ...(await Promise.all(objects.map(schemaFindings))).flat(),
            ...(await Promise.all(objects.map(unknownFieldFindings))).flat(),
            ...referenceFindings(objects, 'demo'),
            ...policyFindings(objects, profile, SEED_POLICY),
          ];
          for (const f of findings) expect(typeof f.message).toBe('string');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('on arbitrary text in a manifest file: problems with file:line, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        const s = brokenStack([]);
        try {
          writeFileSync(join(s.dir, 'base', 'db.yaml'), text);
          const r = await validateStack({ catalog: s.catalog });
          wellFormed(r.problems);
          expect(r.problems.some((p) => p.severity === 'error')).toBe(true); // db.yaml's StatefulSet is gone at least
        } finally {
          s.cleanup();
        }
      }),
      { numRuns: 12 },
    );
  });
});

describeWithKubectl('property: the CLI on arbitrary catalog files', () => {
  afterEach(() => vi.restoreAllMocks());

  it('exits 1 or 2 with a message and no stack trace', async () => {
    const original = readFileSync(join(GOOD, 'stack.yaml'), 'utf8');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          yamlish,
          tree.map((v) => stringify(v)),
        ),
        async (text) => {
          const s = brokenStack([{ file: 'stack.yaml', create: text === original ? '' : text }]);
          const out: string[] = [];
          const capture = (x: string | Uint8Array) => {
            out.push(String(x));
            return true;
          };
          vi.spyOn(process.stdout, 'write').mockImplementation(capture);
          vi.spyOn(process.stderr, 'write').mockImplementation(capture);
          try {
            const code = await main(['validate', '--catalog', s.catalog]);
            vi.restoreAllMocks();
            const printed = out.join('');
            expect([1, 2]).toContain(code);
            expect(printed).toMatch(/error/);
            expect(printed).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
          } finally {
            vi.restoreAllMocks();
            s.cleanup();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
