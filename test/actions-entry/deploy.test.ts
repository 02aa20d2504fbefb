/**
 * actions/deploy's bundles (main and post) run as GitHub runs them. No Kubernetes API server and no
 * Docker can run here, so these cover what the entry points decide before and around a cluster:
 * input errors, dry-run against an unreachable cluster, the missing-Docker preflight, the post step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/services.ts';
import { errors, hasBundle, missingBundle, runAction } from './run-action.ts';

const stackTrace = /\n\s+at .+:\d+:\d+\)?/;

if (!hasBundle('deploy')) missingBundle('deploy');
else
  describe('actions/deploy entry points', () => {
    let dir: string;
    let kubeconfig: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kindling-deploy-entry-'));
      // a cluster nobody listens for: a free loopback port
      const port = await freePort();
      kubeconfig = [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: gone\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
        'users:',
        '- name: u\n  user:\n    token: kindling-entry-token-9c2e',
        'contexts:',
        '- name: gone\n  context:\n    cluster: gone\n    user: u',
        'current-context: gone',
        '',
      ].join('\n');
      writeFileSync(join(dir, 'kubeconfig'), kubeconfig);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('cluster existing without a kubeconfig fails naming the input', async () => {
      const r = await runAction('deploy', { cluster: 'existing' });
      expect(r.code).toBe(1);
      expect(errors(r)).toMatch(/input "kubeconfig": is required/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(stackTrace);
    });

    it('dry-run on an unreachable existing cluster fails with one clear message, no stack trace', async () => {
      const r = await runAction(
        'deploy',
        {
          cluster: 'existing',
          kubeconfig: join(dir, 'kubeconfig'),
          'dry-run': 'true',
          profile: 'minimal',
          timeout: '20s',
        },
        { timeoutMs: 90_000 },
      );
      expect(r.code).toBe(1);
      expect(r.outputs.kubeconfig).toBe(join(dir, 'kubeconfig'));
      expect(errors(r)).not.toBe('');
      expect(`${r.stdout}${r.stderr}`).not.toMatch(stackTrace);
    });

    it('a kubeconfig given as content is masked and written to a private file', async () => {
      const r = await runAction(
        'deploy',
        { cluster: 'existing', kubeconfig, 'dry-run': 'true', timeout: '20s' },
        { timeoutMs: 90_000 },
      );
      expect(r.stdout).toContain('::add-mask::');
      expect(r.outputs.kubeconfig).toMatch(/kubeconfig$/);
      const leaked = `${r.stdout}\n${r.stderr}`
        .split('\n')
        .filter((l) => l.includes('kindling-entry-token-9c2e') && !l.startsWith('::add-mask::'));
      expect(leaked).toEqual([]);
    });

    it('cluster kind without Docker fails the preflight with an actionable message and creates nothing', async () => {
      const r = await runAction(
        'deploy',
        { cluster: 'kind', 'dry-run': 'true' },
        { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, timeoutMs: 90_000 },
      );
      expect(r.code).toBe(1);
      expect(errors(r)).toMatch(/docker/i);
      expect(r.state['cluster-name']).toBeUndefined();
    });

    it('post step: nothing to delete when no cluster was created', async () => {
      const r = await runAction('deploy', {}, { entry: 'post' });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/nothing to clean up/);
    });

    it('post step: keep-cluster keeps it; a failed delete only warns (the job does not fail)', async () => {
      const state = { 'kind-path': '/nonexistent/kind', 'cluster-name': 'kindling-entry' };
      const kept = await runAction('deploy', { 'keep-cluster': 'true' }, { entry: 'post', state });
      expect(kept.code).toBe(0);
      expect(kept.stdout).toMatch(/keeping kind cluster kindling-entry/);
      const failed = await runAction('deploy', {}, { entry: 'post', state });
      expect(failed.code).toBe(0);
      expect(failed.stdout).toMatch(/::warning::could not delete kind cluster kindling-entry/);
    });
  });
