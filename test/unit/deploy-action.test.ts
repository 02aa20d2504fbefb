// The bundled deploy action (actions/deploy/dist) run as GitHub runs it: INPUT_* env, temp GITHUB_OUTPUT/STATE.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
function env(inputs: Record<string, string>, extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-action-'));
  for (const f of ['output', 'state', 'summary']) writeFileSync(join(dir, f), '');
  const e: Record<string, string> = {
    ...(process.env as Record<string, string>),
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: join(dir, 'tc'),
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    ...extra,
  };
  for (const [k, v] of Object.entries(inputs)) e[`INPUT_${k.toUpperCase()}`] = v;
  return { dir, env: e };
}
async function action(entry: 'index' | 'post', e: Record<string, string>) {
  try {
    const r = await run(process.execPath, [`actions/deploy/dist/${entry}.js`], { env: e, timeout: 20_000 });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const x = err as { code: number; stdout: string };
    return { code: x.code, stdout: x.stdout };
  }
}

describe('deploy action (bundle)', () => {
  it('action.yml: node24, main/post split, every input documented with a default, declared outputs', () => {
    const meta = parse(readFileSync('actions/deploy/action.yml', 'utf8'));
    expect(meta.runs).toMatchObject({ using: 'node24', main: 'dist/index.js', post: 'dist/post.js' });
    for (const [name, input] of Object.entries(
      meta.inputs as Record<string, { description: string; default: unknown }>,
    )) {
      expect(input.description, name).toBeTruthy();
      expect(input.default, name).not.toBeUndefined();
    }
    expect(Object.keys(meta.outputs)).toEqual([
      'kubeconfig',
      'cluster-name',
      'kind-version',
      'node-image',
      'kubectl-version',
      'components',
      'time-to-ready',
      'diagnostics-dir',
      'registry',
    ]);
  });
  it('cluster kind without a Docker engine fails with "Docker is needed", creates nothing', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'kindling-nodocker-'));
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n');
    chmodSync(join(bin, 'docker'), 0o755);
    const { dir, env: e } = env({ cluster: 'kind' }, { PATH: `${bin}:${process.env.PATH}` });
    const r = await action('index', e);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::Docker is needed/);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('');
  });
  it('a bad input is named', async () => {
    const r = await action('index', env({ cluster: 'minikube' }).env);
    expect(r.stdout).toMatch(/::error::input "cluster" must be one of kind, existing \(got "minikube"\)/);
  });
  it('post step: nothing to delete when no cluster was created; keeps it when asked', async () => {
    expect((await action('post', env({}).env)).stdout).toMatch(/nothing to clean up/);
    const kept = await action(
      'post',
      env(
        { 'keep-cluster': 'true' },
        { 'STATE_kind-path': '/nonexistent/kind', 'STATE_cluster-name': 'kindling' },
      ).env,
    );
    expect(kept.stdout).toMatch(/keeping kind cluster kindling/);
  });
});
