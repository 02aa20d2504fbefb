/**
 * Each action under GitHub's own @github/local-action (npm, 7.0.1): it stubs @actions/core and
 * @actions/github, imports the entry point it is given and calls its exported run()
 * (github/local-action src/commands/run.ts). The entry is src/actions/<name>/main.ts — what the
 * bundle's index.ts calls — so a module that also ran itself on import would run twice here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/services.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { actionSpec, REPO } from './run-action.ts';

interface LocalRun {
  code: number | null;
  out: string;
  /** name → how many times it was set */
  sets: Map<string, number>;
}

async function localAction(action: string, inputs: Record<string, string>): Promise<LocalRun> {
  const dir = mkdtempSync(join(tmpdir(), `kindling-local-action-${action}-`));
  const env = join(dir, '.env');
  const lines = Object.entries(inputs).map(([k, v]) => `INPUT_${k.toUpperCase()}=${JSON.stringify(v)}`);
  for (const [k, s] of Object.entries(actionSpec(action).inputs))
    if (!(k in inputs) && s.default !== undefined)
      lines.push(`INPUT_${k.toUpperCase()}=${JSON.stringify(String(s.default))}`);
  writeFileSync(
    env,
    [...lines, `RUNNER_TEMP=${dir}`, `GITHUB_STEP_SUMMARY=${join(dir, 'summary')}`, ''].join('\n'),
  );
  writeFileSync(join(dir, 'summary'), '');
  const bin = join(REPO, 'node_modules', '.bin');
  const child = spawn(
    process.execPath,
    [
      join(bin, 'local-action'),
      'run',
      join(REPO, 'actions', action),
      join(REPO, 'src/actions', action, 'main.ts'),
      env,
    ],
    {
      cwd: REPO,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  const sets = new Map<string, number>();
  for (const m of out.matchAll(/^::set-output name=([\w-]+)::/gm))
    sets.set(m[1]!, (sets.get(m[1]!) ?? 0) + 1);
  return { code, out, sets };
}

const declared = (action: string) => Object.keys(actionSpec(action).outputs);

describe('under @github/local-action: each action runs once and sets its declared outputs', () => {
  it('verify', async () => {
    const port = await freePort();
    const r = await localAction('verify', {
      target: 'local',
      endpoints: `redis=redis://127.0.0.1:${port}`,
      components: 'redis',
      timeout: '1s',
    });
    expect(r.out).toMatch(/Running Action/);
    expect([...r.sets.keys()].sort(), r.out).toEqual(declared('verify').sort());
    for (const [name, n] of r.sets) expect(n, name).toBe(1);
    expect(r.out).toMatch(/::error::\d+ check\(s\) failed/);
  }, 180_000);

  it('backup (the store is down: every output still set once)', async () => {
    const r = await localAction('backup', {
      target: 'local',
      endpoints: `redis=redis://127.0.0.1:${await freePort()}`,
      store: 's3://backups/local-action',
      's3-endpoint': `http://127.0.0.1:${await freePort()}`,
      'access-key-id': 'local-action-key-3b9d',
      'secret-access-key': 'local-action-secret-8e2f',
    });
    expect([...r.sets.keys()].sort(), r.out).toEqual(declared('backup').sort());
    for (const [name, n] of r.sets) expect(n, name).toBe(1);
    expect(r.out).toMatch(/::set-output name=ok::false/);
  }, 180_000);

  describe('deploy (cluster existing, dry run against the Kubernetes API stand-in)', () => {
    let api: KubeApiStandin;
    let kubeconfig: string;
    beforeAll(async () => {
      api = await new KubeApiStandin().start();
      api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'voiceassistant-infra' } });
      kubeconfig = join(mkdtempSync(join(tmpdir(), 'kindling-local-action-kc-')), 'config');
      writeFileSync(kubeconfig, api.kubeconfigYaml('ci'));
    });
    afterAll(() => api?.stop());

    it('sets every output an existing cluster has (not the kind-only ones), each once', async () => {
      const r = await localAction('deploy', {
        cluster: 'existing',
        kubeconfig,
        components: 'redis',
        'dry-run': 'true',
      });
      const kindOnly = ['kind-version', 'node-image', 'registry'];
      expect([...r.sets.keys()].sort(), r.out).toEqual(
        declared('deploy')
          .filter((o) => !kindOnly.includes(o))
          .sort(),
      );
      for (const [name, n] of r.sets) expect(n, name).toBe(1);
      expect(r.out).toMatch(/::set-output name=cluster-name::ci/);
      expect(r.out).toMatch(/::set-output name=components::\["redis"\]/);
    }, 180_000);
  });
});
