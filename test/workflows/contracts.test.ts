// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
// Issue #16 defect 9: calls between files, checked against the callee's contract.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { localActionProblems, workflowCallProblems } from './contracts.ts';
import { loadWorkflows, parseWorkflow } from './workflows.ts';

const REPO = process.cwd();

const all = loadWorkflows();

describe('local calls honour their contracts', () => {
  it('every uses: ./.github/workflows/… matches the callee’s workflow_call inputs, secrets and outputs', () => {
    const calls = all.flatMap((w) => [...w.text.matchAll(/uses: \.\/\.github\/workflows\//g)]);
    expect(calls.length).toBeGreaterThanOrEqual(3); // pr-validation, deploy, nightly-backup
    expect(workflowCallProblems(all)).toEqual([]);
  });
  it('every with: of a local action matches its action.yml, and every output read is declared', () => {
    const calls = all.flatMap((w) => [...w.text.matchAll(/uses: \.\/(\.kindling\/)?actions\//g)]);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(localActionProblems(all, REPO)).toEqual([]);
  });
});

describe('the README’s workflow examples call the reusable workflows as their contracts say', () => {
  it('each ```yaml example with `uses: OWNER/kindling/.github/workflows/…` passes the same check', () => {
    const readme = readFileSync('README.md', 'utf8');
    const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((y) => /uses: OWNER\/kindling\/\.github\/workflows\//.test(y))
      .map((y, i) =>
        parseWorkflow(
          `README.md example ${i + 1}`,
          y.replace(/OWNER\/kindling\/(\.github\/workflows\/[\w.-]+)@REF/g, './$1'),
        ),
      );
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(workflowCallProblems([...all, ...examples]).filter((p) => p.startsWith('README'))).toEqual([]);
  });
});

describe('the checker finds what actionlint misses (broken fixtures)', () => {
  const callee = parseWorkflow(
    '.github/workflows/reusable-x.yml',
    `on:
  workflow_call:
    inputs:
      store: { type: string, required: true }
      drill: { type: boolean, default: true }
    secrets:
      token: { required: true }
    outputs:
      id: { value: '\${{ jobs.b.outputs.id }}' }
      gone: { value: '\${{ jobs.b.outputs.missing }}' }
jobs:
  b:
    runs-on: ubuntu-24.04
    outputs: { id: x }
    steps:
      - id: backup
        uses: ./.kindling/actions/backup
        with: { store: s3://b/p, sizing: kind }
      - run: echo "\${{ steps.backup.outputs.no-such-output }}"
`,
  );
  const caller = parseWorkflow(
    '.github/workflows/caller.yml',
    `on: push
jobs:
  call:
    uses: ./.github/workflows/reusable-x.yml
    with: { stor: s3://b/p, drill: 'yes' }
    secrets: { tokn: x }
  after:
    needs: call
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ needs.call.outputs.manifest }}"
`,
  );
  it('unknown and missing inputs, a wrong type, secrets, outputs', () => {
    const p = workflowCallProblems([callee, caller]).join('\n');
    expect(p).toMatch(/input "stor" is not declared/);
    expect(p).toMatch(/required input "store" of .* is not given/);
    expect(p).toMatch(/input "drill" is boolean .* given string "yes"/);
    expect(p).toMatch(/secret "tokn" is not declared/);
    expect(p).toMatch(/required secret "token" .* is not passed/);
    expect(p).toMatch(/reads needs\.call\.outputs\.manifest/);
    expect(p).toMatch(/output "gone" reads/);
  });
  it('a local action given an input it does not declare, and an undeclared output read', () => {
    const p = localActionProblems([callee], REPO).join('\n');
    expect(p).toMatch(/input "sizing" is not declared by \.\/\.kindling\/actions\/backup/);
    expect(p).toMatch(/reads steps\.backup\.outputs\.no-such-output/);
  });
});
