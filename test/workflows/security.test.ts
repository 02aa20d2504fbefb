// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
import { describe, expect, it } from 'vitest';
import { checkWorkflow } from './rules.ts';
import { jobs, loadWorkflows, parseWorkflow } from './workflows.ts';

const workflows = loadWorkflows();
const EXPECTED = [
  'ci.yml',
  'deploy.yml',
  'nightly-backup.yml',
  'pr-validation.yml',
  'reusable-backup.yml',
  'reusable-deploy.yml',
  'reusable-validate-deploy.yml',
];

describe('workflow security rules', () => {
  it('covers every workflow of the issue', () => {
    expect(workflows.map((w) => w.file.split('/').pop())).toEqual(expect.arrayContaining(EXPECTED));
  });

  it.each(workflows.map((w) => [w.file, w] as const))('%s follows every rule', (_file, wf) => {
    expect(checkWorkflow(wf)).toEqual([]);
  });

  it('the reusable workflows are callable (workflow_call) and the event workflows call them', () => {
    const byName = new Map(workflows.map((w) => [w.file.split('/').pop()!, w]));
    for (const name of ['reusable-validate-deploy.yml', 'reusable-backup.yml', 'reusable-deploy.yml'])
      expect(Object.keys(byName.get(name)!.doc.on as object)).toContain('workflow_call');
    const calls = (name: string) => jobs(byName.get(name)!).map(([, j]) => j.uses);
    expect(calls('pr-validation.yml')).toContain('./.github/workflows/reusable-validate-deploy.yml');
    expect(calls('nightly-backup.yml')).toContain('./.github/workflows/reusable-backup.yml');
    expect(calls('deploy.yml')).toContain('./.github/workflows/reusable-deploy.yml');
  });
});

// Each rule must be able to fail: a small workflow breaking exactly one rule.
const base = (jobBody: string, top = 'permissions:\n  contents: read\n', on = 'push') =>
  `name: t\non: ${on}\n${top}jobs:\n  j:\n    runs-on: ubuntu-24.04\n${jobBody}`;
const okJob = '    permissions:\n      contents: read\n    steps:\n      - run: echo ok\n';
const check = (text: string) => checkWorkflow(parseWorkflow('.github/workflows/t.yml', text));

describe('workflow security rules catch violations', () => {
  it('accepts the minimal compliant workflow', () => {
    expect(check(base(okJob))).toEqual([]);
  });
  it('pull_request_target', () => {
    expect(check(base(okJob, undefined, 'pull_request_target')).join()).toMatch(/pull_request_target/);
  });
  it('missing workflow permissions', () => {
    expect(check(base(okJob, '')).join()).toMatch(/\(workflow\): no explicit permissions/);
  });
  it('missing job permissions', () => {
    expect(check(base('    steps:\n      - run: echo ok\n')).join()).toMatch(/› j: no explicit permissions/);
  });
  it('write-all and unneeded write scopes', () => {
    expect(check(base(okJob, 'permissions: write-all\n')).join()).toMatch(/write-all/);
    const job = '    permissions:\n      contents: write\n    steps:\n      - run: echo ok\n';
    expect(check(base(job)).join()).toMatch(/contents: write is not needed/);
  });
  it('third-party action by tag, by short SHA, or without a version comment', () => {
    const step = (u: string) =>
      `    permissions: {}\n    steps:\n      - uses: ${u}\n        with:\n          persist-credentials: false\n`;
    expect(check(base(step('actions/checkout@v5'))).join()).toMatch(/not pinned by a full 40-hex/);
    expect(check(base(step('actions/checkout@08c6903'))).join()).toMatch(/not pinned by a full 40-hex/);
    expect(check(base(step('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8'))).join()).toMatch(
      /no "# vX" version comment/,
    );
    expect(check(base(step('actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0')))).toEqual(
      [],
    );
    expect(check(base(step('./actions/deploy')))).toEqual([]);
  });
  it('checkout without persist-credentials: false', () => {
    const job =
      '    permissions: {}\n    steps:\n      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0\n';
    expect(check(base(job)).join()).toMatch(/persist-credentials/);
  });
  it('an untrusted expression interpolated into run:', () => {
    const job =
      '    permissions: {}\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n';
    expect(check(base(job)).join()).toMatch(/interpolated into run:.*pass it through env:/);
  });
  it('a secret outside env:/with:/secrets:', () => {
    const job = "    permissions: {}\n    if: ${{ secrets.TOKEN != '' }}\n    steps:\n      - run: echo ok\n";
    expect(check(base(job)).join()).toMatch(/secret used at jobs\.j\.if/);
    const ok =
      '    permissions: {}\n    steps:\n      - run: echo ok\n        env:\n          T: ${{ secrets.TOKEN }}\n';
    expect(check(base(ok))).toEqual([]);
  });
  it('secrets: inherit', () => {
    const text =
      'name: t\non: push\npermissions: {}\njobs:\n  j:\n    permissions: {}\n    uses: ./.github/workflows/x.yml\n    secrets: inherit\n';
    expect(check(text).join()).toMatch(/secrets: inherit/);
  });
});
