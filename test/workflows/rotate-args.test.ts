/**
 * rotate.yml's `kindling rotate` step, run by bash as the runner runs it (with a recording `npm` on
 * PATH): which flags each target gets from the inputs and the Environment's secrets.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobs, loadWorkflows, steps } from './workflows.ts';

const wf = loadWorkflows().find((w) => w.file.endsWith('/rotate.yml'))!;
const script = String(steps(jobs(wf)[0]![1]).find((s) => s.name === 'kindling rotate')!.run);
const dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-yml-'));
writeFileSync(join(dir, 'npm'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
chmodSync(join(dir, 'npm'), 0o755);

const run = (env: Record<string, string>) => {
  // GitHub's bash on Linux: `bash --noprofile --norc -eo pipefail {0}` (docs: workflow syntax, jobs.<job_id>.steps[*].shell)
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: { PATH: `${dir}:${process.env.PATH}`, RUNNER_TEMP: '/rt', COMPONENTS: 'postgres,redis', ...env },
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n');
};

describe('rotate.yml: the kindling rotate step', () => {
  it('target kube: the kubeconfig file, context and namespace when given; no --endpoint even when the endpoints secret is set', () => {
    const args = run({
      TARGET: 'kube',
      CONTEXT: 'prod',
      NAMESPACE: 'va-infra',
      ENDPOINTS: 'postgres=postgresql://x',
    });
    expect(args).toEqual([
      'run',
      '--silent',
      'kindling',
      '--',
      'rotate',
      '--target',
      'kube',
      '--components',
      'postgres,redis',
      '--write-secrets',
      '/rt/rotated-secrets.json',
      '--kubeconfig',
      '/rt/kubeconfig',
      '--context',
      'prod',
      '--namespace',
      'va-infra',
    ]);
    expect(run({ TARGET: 'kube', CONTEXT: '', NAMESPACE: '' }).slice(-2)).toEqual([
      '--kubeconfig',
      '/rt/kubeconfig',
    ]);
  });

  it('target local: one --endpoint per non-empty line of KINDLING_ROTATE_ENDPOINTS', () => {
    const args = run({
      TARGET: 'local',
      CONTEXT: 'ignored',
      NAMESPACE: '',
      ENDPOINTS: 'postgres=postgresql://a\n\nredis=redis://b\n',
    });
    expect(args.slice(5)).toEqual([
      '--target',
      'local',
      '--components',
      'postgres,redis',
      '--write-secrets',
      '/rt/rotated-secrets.json',
      '--endpoint',
      'postgres=postgresql://a',
      '--endpoint',
      'redis=redis://b',
    ]);
  });
});
