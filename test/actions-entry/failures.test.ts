/**
 * The bundled actions on the failures a runner meets first (issue #16 defects 3 and 8): an
 * unreachable store, more failing checks than GitHub shows annotations, a bad input before a cluster
 * is created, an existing cluster's name.
 */
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/load.ts';
import { describeWithServices, freePort, type RunningS3, startS3 } from '../harness/services.ts';
import { GitHubIssuesStandin } from '../standins/github-issues.ts';
import { errors, runAction } from './run-action.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'kindling-failures-'));

describe('backup action: an early failure still reports (GitHub REST stand-in for the issue)', () => {
  let gh: GitHubIssuesStandin;
  beforeAll(async () => {
    gh = await new GitHubIssuesStandin().start();
  });
  afterAll(() => gh.stop());

  it('store unreachable: ok=false, no backup-id, a summary, and the failure issue opened', async () => {
    const port = await freePort(); // nobody listens: the store is down
    const r = await runAction(
      'backup',
      {
        target: 'local',
        endpoints: `redis=redis://127.0.0.1:${await freePort()}`,
        store: 's3://backups/nightly',
        's3-endpoint': `http://127.0.0.1:${port}`,
        'access-key-id': 'k',
        'secret-access-key': 'kindling-failure-secret-7d1e',
        'issue-on-failure': 'true',
        'github-token': 'kindling-token-1f2e',
      },
      { env: { GITHUB_API_URL: gh.url }, timeoutMs: 120_000 },
    );
    expect(r.code).toBe(1);
    expect(r.outputs.ok).toBe('false');
    expect(r.outputs['backup-id']).toBe('');
    expect(r.outputs['manifest-uri']).toBe('');
    expect(r.summary).toMatch(/Backup failed/);
    expect(r.summary).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
    const created = gh.requests.find(
      (q) => q.method === 'POST' && q.path === '/repos/example/kindling/issues',
    );
    expect(created?.body).toMatchObject({ labels: ['kindling-backup-failure'] });
    expect(String(created?.body.body)).toMatch(/Backup \(not started\) failed/);
    const leaks = `${r.stdout}\n${r.summary}`
      .split('\n')
      .filter((l) => l.includes('kindling-failure-secret-7d1e'));
    expect(leaks).toEqual(['::add-mask::kindling-failure-secret-7d1e']);
  });
});

describeWithServices('backup action: a run that started and then failed', ['s3'], () => {
  let s3: RunningS3;
  let gh: GitHubIssuesStandin;
  beforeAll(async () => {
    [s3, gh] = await Promise.all([startS3({ buckets: ['backups'] }), new GitHubIssuesStandin().start()]);
    gh.open.set(7, ['kindling-backup-failure']); // an issue from an earlier failure
  });
  afterAll(async () => Promise.all([s3?.stop(), gh?.stop()]));

  it('sets backup-id, ok=false, and comments on the open issue instead of opening another', async () => {
    const r = await runAction(
      'backup',
      {
        target: 'local',
        endpoints: `redis=redis://127.0.0.1:${await freePort()}`,
        store: 's3://backups/started',
        's3-endpoint': s3.endpoint,
        'access-key-id': 'S3RVER',
        'secret-access-key': 'S3RVER',
        'issue-on-failure': 'true',
        'github-token': 'kindling-token-1f2e',
      },
      { env: { GITHUB_API_URL: gh.url }, timeoutMs: 120_000 },
    );
    expect(r.code).toBe(1);
    expect(r.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    expect(r.outputs.ok).toBe('false');
    expect(
      gh.requests.filter((q) => q.method === 'POST' && q.path === '/repos/example/kindling/issues'),
    ).toEqual([]);
    expect(gh.requests.some((q) => q.path === '/repos/example/kindling/issues/7/comments')).toBe(true);
  });
});

describe('verify action: the headline is among the 10 error annotations GitHub shows', () => {
  it('with more failing checks than that, the first error is the headline and there are at most 10', async () => {
    const stack = loadStack('manifests/stack.yaml');
    const port = await freePort();
    const lines = Object.values(stack.components)
      .filter((c) => c.endpoints.length)
      .flatMap((c) =>
        c.endpoints.map((e) => `${c.name}.${e.name}=${e.scheme}://127.0.0.1:${port}${e.path ?? ''}`),
      );
    const r = await runAction(
      'verify',
      { target: 'local', endpoints: lines.join('\n'), timeout: '1s' },
      { timeoutMs: 120_000 },
    );
    expect(r.code).toBe(1);
    const shown = errors(r).split('\n');
    expect(Number(r.outputs.failed)).toBeGreaterThan(10);
    expect(shown.length).toBeLessThanOrEqual(10);
    expect(shown[0]).toMatch(/^::error::\d+ check\(s\) failed: /);
  });
});

describe('deploy action: inputs checked before a cluster; an existing cluster named by its context', () => {
  it('a bad timeout fails naming the input, and Docker is never called', async () => {
    const bin = tmp();
    const calls = join(bin, 'calls');
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "$@" >>"${calls}"\nexit 1\n`);
    chmodSync(join(bin, 'docker'), 0o755);
    const r = await runAction(
      'deploy',
      { cluster: 'kind', timeout: '0s' },
      { env: { PATH: `${bin}:${process.env.PATH}` } },
    );
    expect(r.code).toBe(1);
    expect(errors(r)).toMatch(/::error::input "timeout": must be longer than 0/);
    expect(existsSync(calls)).toBe(false);
    expect(r.state).toEqual({});
  });

  it('an unknown sizing is named as the input, not as a flag', async () => {
    const r = await runAction('deploy', { cluster: 'kind', sizing: 'prod' });
    expect(errors(r)).toMatch(
      /::error::input "sizing": unknown sizing "prod"; the catalog has kind, production/,
    );
  });

  it('cluster-name of an existing cluster is its kubeconfig context, also when the deploy fails', async () => {
    const dir = tmp();
    const port = await freePort();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\ncontexts:\n- name: staging-eu\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: staging-eu\n`,
    );
    const r = await runAction(
      'deploy',
      { cluster: 'existing', kubeconfig, 'dry-run': 'true' },
      { timeoutMs: 90_000 },
    );
    expect(r.code).toBe(1);
    expect(r.outputs['cluster-name']).toBe('staging-eu');
  });
});

describe('an action names its input, never a CLI flag (settings know their origin)', () => {
  it.each([
    ['backup', { store: 'ftp://x' }, /input "store".*s3:\/\/BUCKET\/PREFIX/],
    [
      'backup',
      { store: 's3://backups/x', 's3-endpoint': 'ftp://files' },
      /input "s3-endpoint": must be an http/,
    ],
    [
      'backup',
      { store: 's3://backups/x', compression: 'lz4' },
      /input "compression": must be one of zstd, gzip, none/,
    ],
    ['backup', { store: 's3://backups/x', retention: 'keep-forever' }, /input "retention"/],
    [
      'backup',
      { store: 's3://backups/x', target: 'kube', endpoints: 'redis=redis://127.0.0.1:1' },
      /input "endpoints": is for target local/,
    ],
    [
      'verify',
      { target: 'local', endpoints: 'redis=redis://127.0.0.1:1', timeout: '99999999h' },
      /input "timeout": must be at most 24d/,
    ],
    [
      'verify',
      { target: 'local', endpoints: 'nosuch=redis://127.0.0.1:1' },
      /input "endpoints" nosuch: unknown component/,
    ],
    [
      'verify',
      { target: 'local', endpoints: 'redis=redis://127.0.0.1:1', json: '/' },
      /input "json": \/ is a directory/,
    ],
    [
      'deploy',
      { cluster: 'kind', profile: 'nosuch' },
      /input "profile": unknown profile or component "nosuch"/,
    ],
    [
      'deploy',
      { cluster: 'kind', 'local-registry': 'maybe' },
      /input "local-registry": must be true, false or a port number/,
    ],
  ] as const)('%s %j', async (action, inputs, message) => {
    const r = await runAction(action, inputs);
    expect(r.code).toBe(1);
    const e = errors(r);
    expect(e).toMatch(message);
    expect(e).not.toMatch(/(^|[\s:(])--[a-z]/m);
  });
});
