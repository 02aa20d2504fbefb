/**
 * One code path for kind and existing clusters once a KubeConfig exists: render the sizing overlay,
 * plan the selection, apply + wait, and on failure write the diagnostics directory.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { resolveSelection } from '../catalog/resolve.ts';
import type { Component, Stack } from '../catalog/types.ts';
import { KubeClient } from '../kube/client.ts';
import { type DeployOptions, type DeployResult, deployPlan } from '../kube/deploy.ts';
import { collectDiagnostics } from '../kube/diagnostics.ts';
import type { KubeObject } from '../manifests/render.ts';
import { renderChecked } from '../manifests/validate.ts';
import { rolloutError } from '../plan/diagnostics.ts';
import { buildPlan, type Plan } from '../plan/order.ts';
import { errorMessage } from '../util/errors.ts';

export interface DeployStackOptions extends Omit<DeployOptions, 'keepWatch'> {
  stack: Stack;
  /** Profiles and/or component names. */
  selection: readonly string[];
  /** Kustomize overlay (`kind`, `production`). */
  sizing: string;
  kubeConfig: KubeConfig;
  /** Where to write diagnostics on failure. */
  diagnosticsDir: string;
  /** Adds cluster-level logs (e.g. `kind export logs`) to the diagnostics directory. */
  extraDiagnostics?: (dir: string) => Promise<void>;
  /** Pre-rendered objects (tests); default: render the sizing overlay. */
  rendered?: readonly KubeObject[];
}

export interface DeployStackResult {
  plan: Plan;
  components: Component[];
  result: DeployResult;
  /** Set when the rollout failed and diagnostics were written. */
  diagnosticsDir?: string;
  /** The aggregated failure, when not ok. */
  error?: Error;
  serverVersion?: string;
}

export async function planStack(
  stack: Stack,
  selection: readonly string[],
  sizing: string,
  rendered?: readonly KubeObject[],
) {
  const components = resolveSelection(stack, selection);
  // validate's own pass: its errors (file:line) refuse the plan, and so the deploy (issue #11 item 19);
  // a --rendered file is taken as given
  const objects = rendered ?? (await renderChecked(stack.file, sizing));
  return { components, plan: buildPlan(stack, components, objects) };
}

export async function deployStack(opts: DeployStackOptions): Promise<DeployStackResult> {
  const { components, plan } = await planStack(opts.stack, opts.selection, opts.sizing, opts.rendered);
  const client = new KubeClient(opts.kubeConfig);
  let serverVersion: string | undefined;
  try {
    serverVersion = await client.serverVersion();
  } catch {
    // informative only
  }
  const result = await deployPlan(plan, client, { ...opts, keepWatch: true });
  const out: DeployStackResult = { plan, components, result, ...(serverVersion ? { serverVersion } : {}) };
  if (!result.ok && result.watch) {
    const failed = result.failures;
    const error = rolloutError(failed, opts.diagnosticsDir);
    const skipped = result.components.filter((c) => c.state === 'skipped');
    const summary = [
      error.message,
      ...skipped.map((s) => `${s.name}: skipped (${s.reasons.join('; ')})`),
    ].join('\n');
    try {
      await collectDiagnostics(
        opts.diagnosticsDir,
        client,
        failed,
        result.watch.snapshot(),
        [plan.namespace],
        summary,
      );
      if (opts.extraDiagnostics) await opts.extraDiagnostics(opts.diagnosticsDir).catch(() => {});
      out.diagnosticsDir = opts.diagnosticsDir;
    } catch (err) {
      opts.log?.('(diagnostics)', `could not write diagnostics: ${errorMessage(err)}`);
    }
    out.error = rolloutError(failed, out.diagnosticsDir);
  } else if (!result.ok) {
    out.error = rolloutError(result.failures);
  }
  await result.watch?.stop();
  return out;
}
