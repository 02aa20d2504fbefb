import * as core from '@actions/core';
import * as github from '@actions/github';
import { runBackup, selectBackups, withBackups } from '../app/backup.ts';
import { COMPRESSIONS } from '../backup/compression.ts';
import { runDrill } from '../backup/drill.ts';
import { loadManifest } from '../backup/inventory.ts';
import { backupMarkdown, backupText, componentBytes, drillText, pruneText } from '../backup/report.ts';
import { hasKeepRule } from '../backup/retention.ts';
import { openStore, openTarget, parseRetention, prune } from '../backup/setup.ts';
import { loadStack } from '../catalog/index.ts';
import { formatDuration } from '../util/duration.ts';
import { errorMessage, FailedError } from '../util/errors.ts';
import { relaunchWithHeapFlags } from '../util/heap.ts';
import { booleanInput, catalogInput, choiceInput, listInput, runAction, stringInput } from './inputs.ts';

/** The `backup` action: `kindling backup` plus outputs, a job summary, retention, a drill and one failure issue. */
export async function run(): Promise<void> {
  const target = choiceInput('target', ['kube', 'local'] as const, 'kube');
  const endpoints = core
    .getInput('endpoints')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const line of endpoints) maskUrlPassword(line.slice(line.indexOf('=') + 1));
  const scratch = core
    .getInput('scratch-endpoints')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const line of scratch) maskUrlPassword(line.slice(line.indexOf('=') + 1));
  const kubeconfig = stringInput('kubeconfig');
  const inline = kubeconfig.includes('\n') || kubeconfig.includes('apiVersion');
  if (inline) core.setSecret(kubeconfig);
  const storeUrl = stringInput('store', { required: true });
  const s3Endpoint = stringInput('s3-endpoint') || undefined;
  const accessKeyId = stringInput('access-key-id', { secret: true });
  const secretAccessKey = stringInput('secret-access-key', { secret: true });
  const compression = choiceInput('compression', COMPRESSIONS, 'zstd');
  const retentionText = stringInput('retention');
  const policy = retentionText ? parseRetention(retentionText, 'input "retention"') : undefined;
  const drill = booleanInput('drill');
  const issueOnFailure = booleanInput('issue-on-failure');
  const token = stringInput('github-token', { secret: true });
  const label = stringInput('issue-label') || 'kindling-backup-failure';
  const stack = loadStack(catalogInput());

  const fallback =
    target === 'local'
      ? [...new Set(endpoints.map((e) => e.split('=')[0]!.split('.')[0]!))].filter((c) =>
          withBackups(stack).includes(c),
        )
      : withBackups(stack);
  const selected = selectBackups(stack, listInput('components'), fallback);
  const { store, location } = openStore({ store: storeUrl, s3Endpoint, accessKeyId, secretAccessKey });
  const access = await openTarget(
    stack,
    {
      target,
      endpoints,
      kubeconfig: inline ? undefined : kubeconfig || undefined,
      kubeconfigContent: inline ? kubeconfig : undefined,
      context: stringInput('context') || undefined,
    },
    'input "endpoints"',
  );

  const outcome = await runBackup({
    selected,
    target: access,
    store,
    location,
    compression,
    log: (l) => core.info(l),
  });
  core.setOutput('backup-id', outcome.id);
  core.setOutput('manifest-uri', outcome.manifestUri ?? '');
  core.setOutput('bytes', JSON.stringify(componentBytes(outcome)));
  core.setOutput('duration', formatDuration(outcome.durationMs));
  core.setOutput('ok', String(outcome.ok));
  core.summary.addRaw(backupMarkdown(outcome, storeUrl, s3Endpoint), true);
  core.info(backupText(outcome));

  const problems: string[] = outcome.components.filter((c) => !c.ok).map((c) => `${c.component}: ${c.error}`);
  if (outcome.ok && drill) {
    if (target !== 'local' || scratch.length === 0) {
      problems.push('drill: needs target local and scratch-endpoints (a scratch instance per component)');
    } else {
      const manifest = await loadManifest(store, location, outcome.id);
      const scratchAccess = await openTarget(
        stack,
        { target: 'local', endpoints: scratch },
        'input "scratch-endpoints"',
      );
      const d = await runDrill({
        stack,
        manifest,
        components: [],
        source: access,
        scratch: scratchAccess,
        store,
        location,
        log: (l) => core.info(l),
      });
      core.setOutput('restore-time', formatDuration(d.restoreMs));
      core.summary.addRaw(
        `\n**Restore drill** ${d.ok ? 'passed' : 'FAILED'} — time to restore ${formatDuration(d.restoreMs)}\n\n\`\`\`\n${drillText(d)}\n\`\`\`\n`,
        true,
      );
      if (!d.ok) problems.push(`restore drill failed: ${drillText(d)}`);
    }
  }
  if (outcome.ok && policy && hasKeepRule(policy)) {
    const { plan } = await prune(store, location, policy, { dryRun: false });
    core.info(pruneText(plan, false));
    core.summary.addRaw(
      `\n<details><summary>Retention: kept ${plan.keep.length}, deleted ${plan.remove.length}</summary>\n\n\`\`\`\n${pruneText(plan, false)}\n\`\`\`\n</details>\n`,
      true,
    );
  }
  await core.summary.write();
  if (issueOnFailure) {
    if (!token) core.warning('issue-on-failure needs github-token; no issue opened or closed');
    else
      await syncFailureIssue(token, label, problems, outcome.id).catch((err) =>
        core.warning(`could not update the failure issue: ${errorMessage(err)}`),
      );
  }
  if (problems.length) throw new FailedError(`backup ${outcome.id} failed`, problems);
}

function maskUrlPassword(raw: string): void {
  try {
    const u = new URL(raw);
    if (u.password) {
      core.setSecret(u.password);
      core.setSecret(decodeURIComponent(u.password));
    }
  } catch {
    // parseEndpointFlags reports malformed URLs
  }
}

/** One issue per label: opened (or commented) on failure, closed by the next success. */
async function syncFailureIssue(token: string, label: string, problems: string[], id: string): Promise<void> {
  const octokit = github.getOctokit(token);
  const { owner, repo } = github.context.repo;
  const open = await octokit.rest.issues.listForRepo({
    owner,
    repo,
    labels: label,
    state: 'open',
    per_page: 1,
  });
  const existing = open.data[0];
  const runUrl = `${github.context.serverUrl}/${owner}/${repo}/actions/runs/${github.context.runId}`;
  if (problems.length === 0) {
    if (existing) {
      await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: existing.number,
        body: `Backup ${id} succeeded: ${runUrl}`,
      });
      await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: existing.number,
        state: 'closed',
        state_reason: 'completed',
      });
    }
    return;
  }
  const body = `Backup ${id} failed: ${runUrl}\n\n${problems.map((p) => `- ${p}`).join('\n')}`;
  if (existing) await octokit.rest.issues.createComment({ owner, repo, issue_number: existing.number, body });
  else
    await octokit.rest.issues.create({ owner, repo, title: 'Nightly backup failing', body, labels: [label] });
}

// it streams the data: a larger V8 heap, set at start-up (src/util/heap.ts)
const relaunched = await relaunchWithHeapFlags();
if (relaunched === undefined) await runAction(run);
else process.exitCode = relaunched;
