/** The deploy action's outputs and job summary from a rollout (shared by both cluster modes). */
import * as core from '@actions/core';
import type { RolloutOutcome } from '../../app/deploy.ts';
import { deploySummary, timeToReady } from '../../report/deploy-summary.ts';
import { FailedError } from '../../util/errors.ts';

export async function publish(out: RolloutOutcome, meta: Record<string, string>): Promise<void> {
  const ready = out.result.components.filter((c) => c.state === 'ready' || c.state === 'applied');
  core.setOutput('kubectl-version', out.serverVersion ?? '');
  core.setOutput('components', JSON.stringify(ready.map((c) => c.name)));
  core.setOutput('time-to-ready', JSON.stringify(timeToReady(out.result.components)));
  core.setOutput('diagnostics-dir', out.diagnosticsDir ?? '');
  for (const w of out.plan.warnings) core.warning(w);
  if (out.serverVersion) meta.kubernetes = out.serverVersion;
  if (out.verified) core.info(`verify: ${out.verified.passed} passed, ${out.verified.failed} failed`);
  await core.summary.addRaw(deploySummary(out.result.components, meta)).write();
  if (!out.error) return;
  core.setFailed(out.error.message);
  if (out.error instanceof FailedError)
    for (const p of out.error.problems) core.error(p, { title: 'kindling deploy' });
}
