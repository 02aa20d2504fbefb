/** The verify action: inputs → `verify` → outputs, annotations (the headline first), job summary. */
import * as core from '@actions/core';
import { fromInput } from '../../app/settings.ts';
import { type VerifyOutcome, verify } from '../../app/verify.ts';
import { componentLine } from '../../cli/verify-output.ts';
import { detail, renderTable } from '../../report/verify-console.ts';
import { verifyAnnotations, verifySummary } from '../../report/verify-summary.ts';
import { catalogInput, endpointLines, fail, inputs, kubeconfigInput } from '../inputs.ts';

/**
 * GitHub shows 10 error annotations per step (actions/toolkit docs/problem-matchers.md,
 * "Limitations"): the failure headline takes one, the failing checks the other nine.
 */
const SHOWN_ERRORS = 10;

export async function run(): Promise<void> {
  try {
    const out = await verify(
      {
        ...inputs({ target: 'target', context: 'context', components: 'components', timeout: 'timeout' }),
        ...inputs({ json: 'json', junit: 'junit' }),
        endpoints: endpointLines('endpoints'),
        kubeconfig: kubeconfigInput(),
        catalog: catalogInput(),
        concurrency: fromInput('concurrency', '16'),
      },
      { onComponent: (name, results) => core.info(componentLine(name, results)) },
    );
    await publish(out);
  } catch (err) {
    fail(err);
  }
}

async function publish({ report, json, junit, error }: VerifyOutcome): Promise<void> {
  // one log group per component, written after the run so parallel checks do not interleave
  for (const c of report.components) {
    core.startGroup(`${c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '-'} ${c.name}`);
    for (const r of report.results.filter((x) => x.component === c.name))
      core.info(
        `${r.status.toUpperCase()} ${r.check} (${r.attempts} attempt(s), ${r.durationMs}ms): ${detail(r)}`,
      );
    core.endGroup();
  }
  core.info(renderTable(report));
  const results = JSON.stringify(report.results.map(({ history: _h, ...r }) => r));
  const outputs = {
    passed: report.passed,
    failed: report.failed,
    skipped: report.skipped,
    ok: report.ok,
    results,
  };
  for (const [k, v] of Object.entries(outputs)) core.setOutput(k, v);
  core.setOutput('json-report', json ?? '');
  core.setOutput('junit-report', junit ?? '');
  if (error) core.setFailed(error.message); // the headline: first of the step's error annotations
  const errors = verifyAnnotations(report, error ? SHOWN_ERRORS - 1 : SHOWN_ERRORS).filter(
    (a) => a.level === 'error',
  );
  const others = verifyAnnotations(report).filter((a) => a.level !== 'error');
  const emit = { error: core.error, warning: core.warning, notice: core.notice };
  for (const a of [...errors, ...others]) emit[a.level](a.message, { title: a.title });
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(verifySummary(report)).write();
}
