// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
// deploy.yml's `upgrade` dispatch mode: the job a mode runs, and the `kindling upgrade` command line
// its script builds — run with bash and a stand-in `npm` (named as such) that records its argv, the
// inputs arriving as the runner passes them (env vars, never interpolated into the script).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobs, loadWorkflows, type Obj, steps } from '../workflows/workflows.ts';

const wf = loadWorkflows().find((w) => w.file.endsWith('/deploy.yml'))!;
const job = (name: string) => jobs(wf).find(([n]) => n === name)![1];
const step = (name: string) => steps(job('upgrade')).find((s) => s.name === name)!;

/** Runs the step's script with `env` (the step's env with `${{ }}` replaced by the values given). */
function runStep(s: Obj, values: Record<string, string>): { argv: string[]; code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-wf-'));
  const argvFile = join(dir, 'argv');
  // stand-in npm: records each argument on its own line
  writeFileSync(join(dir, 'npm'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >"${argvFile}"\n`);
  chmodSync(join(dir, 'npm'), 0o755);
  const env: Record<string, string> = {
    PATH: `${dir}:${process.env.PATH}`,
    RUNNER_TEMP: dir,
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
  };
  for (const [k, v] of Object.entries((s.env ?? {}) as Record<string, string>)) {
    const m = /^\$\{\{\s*(.+?)\s*\}\}$/.exec(String(v));
    env[k] = m ? (values[m[1]!] ?? '') : String(v);
  }
  let code = 0;
  let out = '';
  try {
    out = execFileSync('bash', ['-e', '-c', String(s.run)], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    code = (err as { status: number }).status;
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  let argv: string[] = [];
  try {
    argv = readFileSync(argvFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    // npm never ran
  }
  return { argv: argv.map((a) => a.replace(dir, '$RUNNER_TEMP')), code, out };
}

describe('deploy.yml: upgrade dispatch mode', () => {
  it('a typed mode input; each mode runs its own job', () => {
    const inputs = ((wf.doc.on as Obj).workflow_dispatch as Obj).inputs as Record<string, Obj>;
    expect(inputs.mode).toMatchObject({ type: 'choice', options: ['deploy', 'upgrade'], default: 'deploy' });
    expect(inputs['upgrade-set']!.type).toBe('string');
    expect(job('deploy').if).toBe("inputs.mode == 'deploy'");
    expect(job('upgrade').if).toBe("inputs.mode == 'upgrade'");
    expect(job('upgrade').environment).toBe('${{ inputs.environment }}');
    for (const s of steps(job('upgrade'))) expect(String(s.run ?? '')).not.toContain('${{');
  });

  it('the script passes every --set and --finish, the summary file, dry-run and the store', () => {
    const r = runStep(step('kindling upgrade'), {
      'inputs.upgrade-set': 'grafana=grafana/grafana:11.4.0, postgres=postgres:16.7-alpine',
      'inputs.upgrade-finish': '',
      'inputs.dry-run': 'true',
      'vars.KINDLING_BACKUP_STORE': 's3://backups/upgrades',
      'secrets.KINDLING_S3_ENDPOINT': 'https://minio.example:9000',
    });
    expect(r.code).toBe(0);
    expect(r.argv).toEqual([
      'run',
      '--silent',
      'kindling',
      '--',
      'upgrade',
      '--kubeconfig',
      '$RUNNER_TEMP/kubeconfig',
      '--sizing',
      'production',
      '--summary',
      '$RUNNER_TEMP/summary.md',
      '--set',
      'grafana=grafana/grafana:11.4.0',
      '--set',
      'postgres=postgres:16.7-alpine',
      '--dry-run',
      '--store',
      's3://backups/upgrades',
      '--s3-endpoint',
      'https://minio.example:9000',
    ]);
    const after = runStep(step('kindling upgrade'), {
      'inputs.upgrade-set': 'grafana=grafana/grafana:11.4.0',
      'inputs.upgrade-finish-after': '30m',
    });
    expect(after.argv.slice(11)).toEqual([
      '--set',
      'grafana=grafana/grafana:11.4.0',
      '--finish-after',
      '30m',
    ]);
    const fin = runStep(step('kindling upgrade'), {
      'inputs.upgrade-finish': 'grafana,jaeger',
      'inputs.dry-run': 'false',
    });
    expect(fin.argv.slice(11)).toEqual(['--finish', 'grafana', '--finish', 'jaeger']);
  });

  it('mode upgrade on target kind, or without the kubeconfig secret, stops with exit 2 and says why', () => {
    const kind = runStep(step('Write the kubeconfig'), {
      'inputs.target': 'kind',
      'secrets.KINDLING_KUBECONFIG': 'x',
    });
    expect(kind.code).toBe(2);
    expect(kind.out).toContain('mode upgrade needs target existing');
    const none = runStep(step('Write the kubeconfig'), { 'inputs.target': 'existing' });
    expect(none.code).toBe(2);
    expect(none.out).toContain('needs the KINDLING_KUBECONFIG secret');
  });
});
