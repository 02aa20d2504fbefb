/**
 * The one failure-issue implementation: the backup action and the workflows' report job
 * (scripts/failure-issue.ts) both use it. One open issue per label: opened, or commented on, while
 * failing; closed by the next success that may close it.
 */
import * as github from '@actions/github';

export type IssueStep =
  | { kind: 'none' }
  | { kind: 'create' }
  | { kind: 'comment'; issue: number }
  | { kind: 'close'; issue: number };

/**
 * What to do (pure). `canClose`: a success that proves backups work again — a watchdog-only run
 * proves freshness, not that backups work, so it may not close the issue.
 */
export function issueStep(open: number | undefined, failed: boolean, canClose = true): IssueStep {
  if (failed) return open === undefined ? { kind: 'create' } : { kind: 'comment', issue: open };
  if (open !== undefined && canClose) return { kind: 'close', issue: open };
  return { kind: 'none' };
}

export interface FailureReport {
  label: string;
  title: string;
  /** Empty: a success. */
  problems: readonly string[];
  /** What the comment says first, e.g. `Backup 2026…Z-… failed`. */
  headline: string;
  canClose?: boolean;
}

/** Applies the step through the GitHub API; every call is bounded by a timeout. */
export async function syncFailureIssue(
  token: string,
  r: FailureReport,
  timeoutMs = 30_000,
): Promise<IssueStep> {
  const octokit = github.getOctokit(token, { request: { timeout: timeoutMs } });
  const { owner, repo } = github.context.repo;
  const runUrl = `${github.context.serverUrl}/${owner}/${repo}/actions/runs/${github.context.runId}`;
  const open = await octokit.rest.issues.listForRepo({
    owner,
    repo,
    labels: r.label,
    state: 'open',
    per_page: 1,
  });
  const step = issueStep(open.data[0]?.number, r.problems.length > 0, r.canClose ?? true);
  const body = `${r.headline}: ${runUrl}${r.problems.length ? `\n\n${r.problems.map((p) => `- ${p}`).join('\n')}` : ''}`;
  if (step.kind === 'create')
    await octokit.rest.issues.create({ owner, repo, title: r.title, body, labels: [r.label] });
  if (step.kind === 'comment')
    await octokit.rest.issues.createComment({ owner, repo, issue_number: step.issue, body });
  if (step.kind === 'close') {
    await octokit.rest.issues.createComment({ owner, repo, issue_number: step.issue, body });
    await octokit.rest.issues.update({
      owner,
      repo,
      issue_number: step.issue,
      state: 'closed',
      state_reason: 'completed',
    });
  }
  return step;
}
