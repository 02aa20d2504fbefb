/**
 * The backup action: inputs → `backup` (optional drill and retention) → outputs, job summary and the
 * failure issue. Whatever fails, early failures included (store unreachable, no cluster), `ok` is
 * false, `backup-id` is set when a run had started, the summary is written and the issue updated.
 */
import * as core from '@actions/core';
import { type BackupRun, backup } from '../../app/backup.ts';
import { bool } from '../../app/settings.ts';
import { componentBytes } from '../../backup/report.ts';
import { formatDuration } from '../../util/duration.ts';
import { errorMessage } from '../../util/errors.ts';
import { syncFailureIssue } from '../failure-issue.ts';
import { catalogInput, endpointLines, fail, input, inputs, kubeconfigInput, secretInput } from '../inputs.ts';
import { runSummary } from './summary.ts';

export async function run(): Promise<void> {
  try {
    const run = await backup(
      {
        ...inputs({ target: 'target', context: 'context', store: 'store', s3Endpoint: 's3-endpoint' }),
        ...inputs({
          components: 'components',
          compression: 'compression',
          retention: 'retention',
          drill: 'drill',
        }),
        endpoints: endpointLines('endpoints'),
        scratch: endpointLines('scratch-endpoints'),
        kubeconfig: kubeconfigInput(),
        accessKeyId: secretInput('access-key-id'),
        secretAccessKey: secretInput('secret-access-key'),
        catalog: catalogInput(),
      },
      { log: (l) => core.info(l), group: core.group },
    );
    await publish(run);
    if (bool(input('issue-on-failure'))) await failureIssue(run);
    if (run.error) core.setFailed(run.error.message);
  } catch (err) {
    fail(err);
  }
}

async function publish(run: BackupRun): Promise<void> {
  const o = run.outcome;
  core.setOutput('backup-id', run.id ?? '');
  core.setOutput('manifest-uri', o?.manifestUri ?? '');
  core.setOutput('bytes', JSON.stringify(o ? componentBytes(o) : {}));
  core.setOutput('duration', o ? formatDuration(o.durationMs) : '');
  core.setOutput('ok', String(!run.error));
  core.setOutput('restore-time', run.drill ? formatDuration(run.drill.restoreMs) : '');
  await core.summary
    .addRaw(runSummary(run, core.getInput('store'), core.getInput('s3-endpoint') || undefined))
    .write();
}

async function failureIssue(run: BackupRun): Promise<void> {
  const token = secretInput('github-token').value;
  if (!token) return core.warning('issue-on-failure needs github-token; no issue opened or closed');
  const headline = `Backup ${run.id ?? '(not started)'} ${run.error ? 'failed' : 'succeeded'}`;
  const label = input('issue-label').value || 'kindling-backup-failure';
  await syncFailureIssue(token, {
    label,
    title: 'kindling backups failing',
    problems: run.problems,
    headline,
  }).catch((err: unknown) => core.warning(`could not update the failure issue: ${errorMessage(err)}`));
}
