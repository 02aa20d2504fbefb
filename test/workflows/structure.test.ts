// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
/** What the issue asks of each pipeline, checked on the parsed workflows. */
import { describe, expect, it } from 'vitest';
import { isObj, jobs, loadWorkflows, type Obj, steps } from './workflows.ts';

const all = new Map(loadWorkflows().map((w) => [w.file.split('/').pop()!, w]));
const wf = (name: string) => {
  const w = all.get(name);
  if (!w) throw new Error(`${name} is missing`);
  return w;
};
const on = (name: string) => wf(name).doc.on as Obj;
const allSteps = (name: string) => jobs(wf(name)).flatMap(([, j]) => steps(j));
const runs = (name: string) =>
  allSteps(name)
    .map((s) => String(s.run ?? ''))
    .join('\n');
const uses = (name: string) => allSteps(name).map((s) => String(s.uses ?? ''));

describe('pipelines do what the issue asks', () => {
  it('every third-party action is pinned to one SHA across all workflows', () => {
    const pins = new Map<string, Set<string>>();
    for (const w of all.values())
      for (const m of w.text.matchAll(/uses:\s*([\w.-]+\/[\w./-]+)@(\S+)/g))
        pins.set(m[1]!, (pins.get(m[1]!) ?? new Set()).add(m[2]!));
    for (const [action, shas] of pins) expect([...shas], action).toHaveLength(1);
  });

  it('ci: lint, typecheck, tests via .ci/run, check-dist, workflow lint', () => {
    const r = runs('ci.yml');
    expect(r).toMatch(/npm run lint/);
    expect(r).toMatch(/npm run typecheck/);
    expect(r).toMatch(/bash \.ci\/run/);
    expect(r).toMatch(/npm run bundle/);
    expect(r).toMatch(/git diff --exit-code[^\n]*actions\/\*\/dist/);
    expect(r).toMatch(/vitest run test\/workflows/);
  });

  it('pr-validation: pull_request on what can change a deploy; base SHA through env; full-stack label', () => {
    const pr = on('pr-validation.yml').pull_request as Obj;
    // issue #16 defect 6: workflows, scripts and the package files change what the pipeline runs
    expect(pr.paths).toEqual([
      'manifests/**',
      'src/**',
      'actions/**',
      'scripts/**',
      '.github/workflows/**',
      'package.json',
      'package-lock.json',
    ]);
    expect(pr.types).toContain('labeled');
    const select = allSteps('pr-validation.yml').find((s) => s.id === 'select')!;
    expect((select.env as Obj).BASE_SHA).toBe('${{ github.event.pull_request.base.sha }}');
    expect(String((select.env as Obj).FULL_STACK_LABEL)).toContain("'full-stack'");
    expect(String(select.run)).toMatch(/git diff --name-only "\$BASE_SHA"/);
  });

  it('validate-deploy: validate --format github; disk clean-up, sysctl, deploy → verify → backup read back and re-hashed; diagnostics on failure', () => {
    const name = 'reusable-validate-deploy.yml';
    expect(runs(name)).toMatch(/kindling -- validate --format github/);
    expect(runs(name)).toMatch(/sudo sysctl -w vm\.max_map_count=262144/);
    expect(runs(name)).toMatch(/docker image prune/);
    const u = uses(name);
    const order = [
      './.kindling/actions/deploy',
      './.kindling/actions/verify',
      './.kindling/actions/backup',
    ].map((a) => u.indexOf(a));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const backup = allSteps(name).find((s) => s.uses === './.kindling/actions/backup')!;
    expect((backup.with as Obj).store).toMatch(/^s3:\/\//);
    expect(runs(name)).toMatch(/backups verify "\$BACKUP_ID"/);
    const upload = allSteps(name).find((s) => String(s.uses).startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('failure()');
  });

  it('nightly-backup: schedule + dispatch, never overlapping, secrets for the cluster and the store, 26 h watchdog', () => {
    expect(Object.keys(on('nightly-backup.yml'))).toEqual(
      expect.arrayContaining(['schedule', 'workflow_dispatch']),
    );
    expect(wf('nightly-backup.yml').doc.concurrency).toMatchObject({ 'cancel-in-progress': false });
    const [, job] = jobs(wf('nightly-backup.yml'))[0]!;
    expect(Object.keys(job.secrets as Obj)).toEqual([
      'kubeconfig',
      's3-endpoint',
      'access-key-id',
      'secret-access-key',
    ]);
    expect((job.with as Obj)['max-age-hours']).toBe(26);
    const r = runs('reusable-backup.yml');
    expect(r).toMatch(/backup-watchdog\.ts/);
    // the one failure-issue implementation (src/actions/failure-issue.ts), not a gh script
    expect(r).toMatch(/node scripts\/failure-issue\.ts/);
    expect(r).not.toMatch(/gh issue/);
    const backup = allSteps('reusable-backup.yml').find((s) => s.uses === './.kindling/actions/backup')!;
    expect((backup.with as Obj).retention).toBe('${{ inputs.retention }}');
  });

  it('deploy: typed dispatch inputs, an Environment per target, verify after deploy', () => {
    const inputs = (on('deploy.yml').workflow_dispatch as Obj).inputs as Record<string, Obj>;
    expect(inputs.profile).toMatchObject({ type: 'choice' });
    expect(inputs.target).toMatchObject({ type: 'choice', options: ['kind', 'existing'] });
    expect(inputs.environment).toMatchObject({ type: 'choice' });
    expect((inputs.environment!.options as string[]).includes('production')).toBe(true);
    expect(inputs['dry-run']).toMatchObject({ type: 'boolean' });
    expect(inputs.components).toMatchObject({ type: 'string' });
    const [, job] = jobs(wf('reusable-deploy.yml'))[0]!;
    expect(isObj(job.environment) ? job.environment.name : job.environment).toBe('${{ inputs.environment }}');
    const u = uses('reusable-deploy.yml');
    expect(u.indexOf('./.kindling/actions/verify')).toBeGreaterThan(u.indexOf('./.kindling/actions/deploy'));
  });

  it('rotate: target local or kube (kubeconfig from the Environment secret in a 0600 file, context and namespace inputs); the credentials leave only gpg-encrypted', () => {
    const inputs = (on('rotate.yml').workflow_dispatch as Obj).inputs as Record<string, Obj>;
    expect(inputs.target).toMatchObject({ type: 'choice', options: ['local', 'kube'], default: 'local' });
    expect(inputs.context).toMatchObject({ type: 'string', default: '' });
    expect(inputs.namespace).toMatchObject({ type: 'string', default: '' });
    const all = allSteps('rotate.yml');
    const write = all.find((s) => s.name === 'Write the kubeconfig')!;
    expect(write.if).toBe("inputs.target == 'kube'");
    expect((write.env as Obj).KUBECONFIG_DATA).toBe('${{ secrets.KINDLING_KUBECONFIG }}');
    expect(String(write.run)).toMatch(/umask 077\n/);
    expect(String(write.run)).toMatch(/chmod 600 "\$RUNNER_TEMP\/kubeconfig"/);
    const rotate = all.find((s) => s.name === 'kindling rotate')!;
    expect(rotate.env).toMatchObject({
      TARGET: '${{ inputs.target }}',
      CONTEXT: '${{ inputs.context }}',
      NAMESPACE: '${{ inputs.namespace }}',
    });
    const r = String(rotate.run);
    expect(r).toMatch(/args=\(--target "\$TARGET"/);
    expect(r).toMatch(/args\+=\(--kubeconfig "\$RUNNER_TEMP\/kubeconfig"\)/);
    expect(r).toMatch(/--context "\$CONTEXT"/);
    expect(r).toMatch(/--namespace "\$NAMESPACE"/);
    expect(r).toMatch(/--write-secrets "\$RUNNER_TEMP\/rotated-secrets.json"/);
    // the kubeconfig and the plain secrets file are shredded; only the .gpg is uploaded
    expect(all.find((s) => s.name === 'Remove the kubeconfig')).toMatchObject({
      if: "always() && inputs.target == 'kube'",
    });
    expect(runs('rotate.yml')).toMatch(/shred -u "\$RUNNER_TEMP\/rotated-secrets.json"/);
    const upload = all.filter((s) => String(s.uses ?? '').startsWith('actions/upload-artifact@'));
    expect(upload.map((s) => (s.with as Obj).path)).toEqual([
      '${{ runner.temp }}/out/rotated-secrets.json.gpg',
    ]);
    expect(wf('rotate.yml').text).not.toMatch(/not implemented/);
  });

  it('reusable workflows run the actions from a kindling checkout, so other repositories can call them', () => {
    for (const name of ['reusable-validate-deploy.yml', 'reusable-backup.yml', 'reusable-deploy.yml']) {
      const inputs = ((on(name).workflow_call as Obj).inputs ?? {}) as Obj;
      expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['kindling-repository', 'kindling-ref']));
      for (const [, job] of jobs(wf(name))) {
        const local = steps(job).filter((s) => String(s.uses ?? '').startsWith('./'));
        if (local.length === 0) continue;
        const checkout = steps(job).find((s) => String(s.uses).startsWith('actions/checkout@'))!;
        expect(checkout.with).toMatchObject({
          path: '.kindling',
          repository: '${{ inputs.kindling-repository }}',
          ref: '${{ inputs.kindling-ref }}',
        });
        for (const s of local) expect(String(s.uses)).toMatch(/^\.\/\.kindling\/actions\//);
      }
    }
  });
});
