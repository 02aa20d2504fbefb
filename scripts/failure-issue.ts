/**
 * The workflows' end of the one failure-issue implementation (src/actions/failure-issue.ts): opens
 * or comments on the issue labelled `--label` while a backup pipeline fails, closes it on success.
 *
 *   node scripts/failure-issue.ts --label L --title T --backup RESULT --watchdog RESULT [--store URL]
 *
 * RESULT is a job result (success, failure, cancelled, skipped). Only a successful backup job may
 * close the issue: a watchdog-only run proves freshness, not that backups work again. The token is
 * GITHUB_TOKEN; the repository and run come from the GITHUB_* variables the runner sets.
 * Exit codes: 0 done, 1 the GitHub API failed, 2 usage.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type FailureReport, syncFailureIssue } from '../src/actions/failure-issue.ts';
import { errorMessage } from '../src/util/errors.ts';

const RESULTS = ['success', 'failure', 'cancelled', 'skipped'];

/** The report for two job results (pure). */
export function reportFor(o: {
  label: string;
  title: string;
  backup: string;
  watchdog: string;
  store?: string;
}): FailureReport {
  const failed = [o.backup, o.watchdog].includes('failure');
  const where = o.store ? ` of \`${o.store}\`` : '';
  return {
    label: o.label,
    title: o.title,
    problems: failed ? [`backup job: ${o.backup}`, `staleness watchdog: ${o.watchdog}`] : [],
    headline: failed ? `Backups${where} failed` : `Backups${where} healthy again`,
    canClose: o.backup === 'success' && o.watchdog === 'success',
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      label: { type: 'string' },
      title: { type: 'string', default: 'kindling backups failing' },
      backup: { type: 'string' },
      watchdog: { type: 'string' },
      store: { type: 'string' },
    },
  });
  const bad = (['backup', 'watchdog'] as const).filter((k) => !RESULTS.includes(values[k] ?? ''));
  if (!values.label || bad.length) {
    process.stderr.write(
      `failure-issue: --label is required; --backup and --watchdog must be one of ${RESULTS.join(', ')}\n`,
    );
    return 2;
  }
  const token = process.env.GITHUB_TOKEN;
  if (!token) {
    process.stderr.write('failure-issue: GITHUB_TOKEN is not set (needs issues: write)\n');
    return 2;
  }
  const report = reportFor({
    ...values,
    label: values.label,
    title: values.title!,
    backup: values.backup!,
    watchdog: values.watchdog!,
  });
  const step = await syncFailureIssue(token, report);
  process.stdout.write(`failure issue: ${step.kind}${'issue' in step ? ` #${step.issue}` : ''}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`failure-issue: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
