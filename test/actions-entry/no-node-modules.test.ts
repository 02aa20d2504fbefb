/**
 * The deploy bundle as GitHub runs `uses: OWNER/kindling/actions/deploy@REF`: the runner downloads
 * the repository's committed files — no node_modules — and starts dist/index.js with node24. So a
 * bundle that reads a file or requires a package at run time must carry it. The cluster is the
 * Kubernetes API stand-in; the deploy is a server-side dry run.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { REPO, runAction } from './run-action.ts';

describe('actions/deploy bundle without node_modules (the runner’s download), API stand-in', () => {
  let api: KubeApiStandin;
  let root: string;
  let workspace: string;
  let kubeconfig: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kindling-download-'));
    for (const dir of ['actions', 'manifests']) cpSync(join(REPO, dir), join(root, dir), { recursive: true });
    workspace = mkdtempSync(join(tmpdir(), 'kindling-caller-'));
    api = await new KubeApiStandin().start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'voiceassistant-infra' } });
    kubeconfig = join(workspace, 'kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfigYaml('ci'));
  });
  afterAll(async () => {
    await api?.stop();
    for (const d of [root, workspace]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('validates the rendered stack, dry-runs the selection, and sets its outputs', async () => {
    const r = await runAction(
      'deploy',
      { cluster: 'existing', kubeconfig, components: 'redis', 'dry-run': 'true' },
      { cwd: workspace, root, timeoutMs: 120_000 },
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.outputs.components).toBe('["redis"]');
    expect(r.outputs['cluster-name']).toBe('ci');
    expect(api.requests.some((q) => q.method === 'PATCH' && q.query.get('dryRun') === 'All')).toBe(true);
  });
});
