import * as core from '@actions/core';
// registers the client-node Cluster behind target kube
import '../kube/register.ts';
import { verifyStack } from '../app/verify.ts';
import { loadStack } from '../catalog/index.ts';
import { selectForVerify } from '../probes/select.ts';
import type { VerifyReport } from '../report/results.ts';
import { detail, renderTable } from '../report/verify-console.ts';
import { toJson, toJunit, writeReportFile } from '../report/verify-files.ts';
import { verifyAnnotations, verifySummary } from '../report/verify-summary.ts';
import { connectCluster } from '../targets/connect.ts';
import { parseEndpointFlags } from '../targets/endpoints.ts';
import { FailedError } from '../util/errors.ts';
import { catalogInput, choiceInput, durationInput, listInput, runAction, stringInput } from './inputs.ts';

/** The `verify` action: same checks as `kindling verify`, plus outputs, a job summary and annotations. */
export async function run(): Promise<void> {
  const target = choiceInput('target', ['kube', 'local'] as const, 'kube');
  const endpointLines = core
    .getInput('endpoints')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  maskEndpointCredentials(endpointLines);
  const kubeconfig = stringInput('kubeconfig');
  // a kubeconfig given inline is a credential; a path is not
  const inline = kubeconfig.includes('\n') || kubeconfig.includes('apiVersion');
  if (inline) core.setSecret(kubeconfig);
  const context = stringInput('context');
  const timeoutMs = durationInput('timeout', '2m');
  const stack = loadStack(catalogInput());
  const endpoints = parseEndpointFlags(stack, endpointLines);
  const components = selectForVerify(stack, { target, names: listInput('components'), endpoints });
  const cluster =
    target === 'kube'
      ? await connectCluster({
          kubeconfigPath: inline ? undefined : kubeconfig || undefined,
          kubeconfigContent: inline ? kubeconfig : undefined,
          context: context || undefined,
        })
      : undefined;

  const report = await verifyStack({ stack, components, target, cluster, endpoints, timeoutMs });
  await publish(report);
  if (!report.ok) {
    const failed = report.results.filter((r) => r.status === 'fail').map((r) => `${r.component}/${r.check}`);
    throw new FailedError(
      failed.length ? `${failed.length} check(s) failed: ${failed.join(', ')}` : 'no check ran',
    );
  }
}

/** Masks the password (raw and decoded) of every `NAME=URL` line before anything can print it. */
function maskEndpointCredentials(lines: readonly string[]): void {
  for (const line of lines) {
    const raw = line.slice(line.indexOf('=') + 1);
    try {
      const url = new URL(raw);
      if (url.password) {
        core.setSecret(url.password);
        core.setSecret(decodeURIComponent(url.password));
      }
    } catch {
      core.setSecret(raw); // malformed: mask the whole value, the error names only the endpoint
    }
  }
}

async function publish(report: VerifyReport): Promise<void> {
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
  const jsonPath = stringInput('json');
  const junitPath = stringInput('junit');
  if (jsonPath) writeReportFile(jsonPath, toJson(report));
  if (junitPath) writeReportFile(junitPath, toJunit(report));
  core.setOutput('passed', report.passed);
  core.setOutput('failed', report.failed);
  core.setOutput('skipped', report.skipped);
  core.setOutput('ok', report.ok);
  core.setOutput(
    'results',
    JSON.stringify(
      report.results.map(({ history: _h, ...r }) => r),
      null,
      0,
    ),
  );
  core.setOutput('json-report', jsonPath);
  core.setOutput('junit-report', junitPath);
  for (const a of verifyAnnotations(report)) {
    const props = { title: a.title };
    if (a.level === 'error') core.error(a.message, props);
    else if (a.level === 'warning') core.warning(a.message, props);
    else core.notice(a.message, props);
  }
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(verifySummary(report)).write();
}

await runAction(run);
