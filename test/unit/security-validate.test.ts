/**
 * `kindling validate`'s security rules on the real stack (real kubectl kustomize): the generated
 * NetworkPolicies prove the catalog's graph on both sizings, and the production hardening
 * (spread.yaml, disruption-budgets.yaml) holds. Each broken copy must be reported at the line to edit.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { validateStack } from '../../src/manifests/validate.ts';
import { disruptionsAllowed } from '../../src/security/hardening.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of manifests/ with `find` replaced by `replace` (exactly once) in `file`. */
function brokenCopy(edits: { file: string; find: string; replace: string }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-sec-'));
  dirs.push(dir);
  cpSync('manifests', dir, { recursive: true });
  for (const e of edits) {
    const path = join(dir, e.file);
    const text = readFileSync(path, 'utf8');
    expect(text.split(e.find).length, `${e.file} contains ${e.find} once`).toBe(2);
    writeFileSync(path, text.replace(e.find, e.replace));
  }
  return join(dir, 'stack.yaml');
}

const lineOf = (file: string, needle: string, after = '') => {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0;
  return lines.findIndex((l, i) => i >= start && l.includes(needle)) + 1;
};

const security = async (catalog: string, sizing: string) =>
  (await validateStack({ catalog, sizing })).problems.filter(
    (p) => p.rule === 'network-policy' || p.rule === 'hardening',
  );

describeWithKubectl('validate: NetworkPolicies and hardening (real kubectl kustomize)', () => {
  it('the stack as committed: no network-policy or hardening problem on either sizing', async () => {
    expect(await security('manifests/stack.yaml', 'kind')).toEqual([]);
    expect(await security('manifests/stack.yaml', 'production')).toEqual([]);
  });

  it('an extra rule (kafka-ui admitted to redis) is reported at that rule of network-policies.yaml', async () => {
    const catalog = brokenCopy([
      {
        file: 'base/network-policies.yaml',
        find: `              app.kubernetes.io/name: redis
              app.kubernetes.io/part-of: voiceassistant-infra
    - from:`,
        replace: `              app.kubernetes.io/name: redis
              app.kubernetes.io/part-of: voiceassistant-infra
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: kafka-ui
    - from:`,
      },
    ]);
    const problems = await security(catalog, 'kind');
    const file = join(catalog, '..', 'base/network-policies.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /^kafka-ui may connect to redis \(StatefulSet\/redis\) on ports 6379, 9121, undeclared ports: NetworkPolicy redis-ingress admits it/,
    );
    expect(problems[0]!.file).toMatch(/base\/network-policies\.yaml$/);
    expect(problems[0]!.line).toBe(lineOf(file, '- from:', 'name: redis-ingress') + 5);
  });

  it('a dependsOn edge the policies lack is reported once per edge at the catalog dependsOn line, on both sizings', async () => {
    // a new edge in the catalog that the committed policies (not regenerated) do not admit; jaeger has
    // two pod templates (Deployment, index-cleaner CronJob): still one problem, each port once
    const catalog = brokenCopy([
      {
        file: 'stack.yaml',
        find: '    dependsOn: [elasticsearch]\n',
        replace: '    dependsOn: [elasticsearch, redis]\n',
      },
    ]);
    for (const sizing of ['kind', 'production']) {
      const problems = await security(catalog, sizing);
      expect(problems.map((p) => p.message)).toEqual([
        'dependsOn edge jaeger → redis is not allowed by the NetworkPolicies: jaeger cannot reach StatefulSet/redis on port 6379 (after a catalog change: npm run gen:network-policies)',
      ]);
      expect(problems[0]!.line).toBe(lineOf(catalog, 'dependsOn: [elasticsearch, redis]'));
    }
  });

  it('policy.network naming an unknown component is a catalog error at that line', async () => {
    const catalog = brokenCopy([
      {
        file: 'stack.yaml',
        find: '      - { from: grafana, to: jaeger,',
        replace: '      - { from: grafanna, to: jaeger,',
      },
    ]);
    const problems = (await validateStack({ catalog, sizing: 'kind' })).problems.filter((p) =>
      p.message.includes('grafanna'),
    );
    expect(problems.map((p) => [p.rule, p.message, p.line])).toEqual([
      [
        'catalog',
        'policy.network.connections.0.from names unknown component "grafanna"',
        lineOf(catalog, 'grafanna'),
      ],
    ]);
  });

  it('production without the required anti-affinity: reported for Nacos and Kafka at their pod spec', async () => {
    const catalog = brokenCopy([
      { file: 'overlays/production/kustomization.yaml', find: '  - path: spread.yaml\n', replace: '' },
    ]);
    const problems = await security(catalog, 'production');
    expect(
      problems.map((p) => `${p.file?.replace(/.*\/kindling-sec-[^/]+\//, '')}: ${p.message.slice(0, 40)}`),
    ).toEqual([
      'base/kafka.yaml: StatefulSet kafka (3 replicas) of "kafka',
      'base/nacos.yaml: StatefulSet nacos (3 replicas) of "nacos',
    ]);
    // the kind sizing (one replica each) has no such rule
    expect(await security(catalog, 'kind')).toEqual([]);
  });

  it('a PDB that blocks every drain, or lets a quorum be lost, is reported at its field', async () => {
    const zero = brokenCopy([
      {
        file: 'overlays/production/disruption-budgets.yaml',
        find: 'maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: nacos',
        replace: 'maxUnavailable: 0\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: nacos',
      },
    ]);
    const p0 = await security(zero, 'production');
    expect(p0.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^PodDisruptionBudget nacos allows no voluntary disruption .* \(maxUnavailable 0\)/,
      ),
    ]);
    expect(p0[0]!.file).toMatch(/overlays\/production\/disruption-budgets\.yaml$/);
    expect(p0[0]!.line).toBe(
      lineOf(join(zero, '..', 'overlays/production/disruption-budgets.yaml'), 'maxUnavailable: 0'),
    );

    const one = brokenCopy([
      {
        file: 'overlays/production/disruption-budgets.yaml',
        find: 'maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka',
        replace: 'minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka',
      },
    ]);
    expect((await security(one, 'production')).map((p) => p.message)).toEqual([
      'PodDisruptionBudget kafka lets 2 of 3 members of "kafka" be down at once: a quorum needs a majority (at most 1)',
    ]);
    // 34% of 3 rounds up to 2 available: one disruption, a majority kept
    const pct = brokenCopy([
      {
        file: 'overlays/production/disruption-budgets.yaml',
        find: 'maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka',
        replace: 'minAvailable: 34%\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka',
      },
    ]);
    expect(await security(pct, 'production')).toEqual([]);
  });
});

it('disruptionsAllowed: numbers and percentages, rounded up as the disruption controller does', () => {
  const pdb = (spec: Record<string, unknown>) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'x' },
    spec,
  });
  expect(disruptionsAllowed(pdb({ maxUnavailable: 1 }), 3)).toBe(1);
  expect(disruptionsAllowed(pdb({ maxUnavailable: '50%' }), 3)).toBe(2);
  expect(disruptionsAllowed(pdb({ minAvailable: '50%' }), 7)).toBe(3); // docs: 7 pods, 50% → 4 must stay
  expect(disruptionsAllowed(pdb({ minAvailable: 3 }), 3)).toBe(0);
  expect(disruptionsAllowed(pdb({ minAvailable: '100%' }), 3)).toBe(0);
  expect(disruptionsAllowed(pdb({}), 3)).toBeUndefined();
});
