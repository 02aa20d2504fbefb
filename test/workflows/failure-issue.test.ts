// The one failure-issue implementation, as the workflows' report job runs it (GitHub REST stand-in).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportFor } from '../../scripts/failure-issue.ts';
import { issueStep } from '../../src/actions/failure-issue.ts';
import { GitHubIssuesStandin } from '../standins/github-issues.ts';

describe('issueStep (pure)', () => {
  it('opens, comments, closes — and a run that may not close leaves the issue open', () => {
    expect(issueStep(undefined, true)).toEqual({ kind: 'create' });
    expect(issueStep(4, true)).toEqual({ kind: 'comment', issue: 4 });
    expect(issueStep(4, false)).toEqual({ kind: 'close', issue: 4 });
    expect(issueStep(4, false, false)).toEqual({ kind: 'none' });
    expect(issueStep(undefined, false)).toEqual({ kind: 'none' });
  });
  it('reportFor: a watchdog-only success (backup skipped) may not close', () => {
    const base = { label: 'l', title: 't', store: 's3://b/p' };
    expect(reportFor({ ...base, backup: 'skipped', watchdog: 'success' })).toMatchObject({
      problems: [],
      canClose: false,
    });
    expect(reportFor({ ...base, backup: 'failure', watchdog: 'success' }).problems).toEqual([
      'backup job: failure',
      'staleness watchdog: success',
    ]);
  });
});

describe('scripts/failure-issue.ts against the GitHub REST stand-in', () => {
  let gh: GitHubIssuesStandin;
  beforeAll(async () => {
    gh = await new GitHubIssuesStandin().start();
  });
  afterAll(() => gh.stop());
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['scripts/failure-issue.ts', ...args], {
        env: {
          ...process.env,
          GITHUB_TOKEN: 't',
          GITHUB_API_URL: gh.url,
          GITHUB_REPOSITORY: 'example/kindling',
          GITHUB_RUN_ID: '9',
        },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
  const args = (backup: string, watchdog: string) => [
    '--label',
    'kindling-backup-failure',
    '--backup',
    backup,
    '--watchdog',
    watchdog,
  ];

  it('a failure opens the issue, a watchdog-only success keeps it, a backup success closes it', async () => {
    expect(await run(args('failure', 'success'))).toMatchObject({ code: 0, out: 'failure issue: create\n' });
    expect(await run(args('skipped', 'success'))).toMatchObject({ code: 0, out: 'failure issue: none\n' });
    expect(await run(args('success', 'success'))).toMatchObject({
      code: 0,
      out: 'failure issue: close #1\n',
    });
    expect(gh.open.size).toBe(0);
  });
  it('bad arguments exit 2', async () => {
    expect((await run(['--label', 'x', '--backup', 'maybe', '--watchdog', 'success'])).code).toBe(2);
  });
});
