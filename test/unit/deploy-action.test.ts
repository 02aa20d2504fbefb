// The bundled deploy action (actions/deploy/dist) run as GitHub runs it (test/actions-entry/run-action.ts:
// INPUT_* env with action.yml's defaults, temp GITHUB_OUTPUT/STATE).
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { errors, runAction } from '../actions-entry/run-action.ts';

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
    const r = await runAction('deploy', { cluster: 'kind' }, { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(errors(r)).toMatch(/::error::Docker is needed/);
    expect(r.state).toEqual({});
  });
  it('a bad input is named', async () => {
    const r = await runAction('deploy', { cluster: 'minikube' });
    expect(errors(r)).toMatch(/::error::input "cluster": must be one of kind, existing \(got "minikube"\)/);
  });
  it('post step: nothing to delete when no cluster was created; keeps it when asked', async () => {
    expect((await runAction('deploy', {}, { entry: 'post' })).stdout).toMatch(/nothing to clean up/);
    const state = { 'kind-path': '/nonexistent/kind', 'cluster-name': 'kindling' };
    const kept = await runAction('deploy', { 'keep-cluster': 'true' }, { entry: 'post', state });
    expect(kept.stdout).toMatch(/keeping kind cluster kindling/);
  });
});
