/**
 * `deploy` (an existing cluster), `up` (a kind cluster) and `down`. One code path once a KubeConfig
 * exists: render the sizing overlay, plan the selection, apply + wait, and on failure write the
 * diagnostics directory. Every setting is checked before a cluster is created or touched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Component, Stack } from '../catalog/types.ts';
import { KubeClient } from '../kube/client.ts';
import { type DeployOptions, type DeployResult, deployPlan } from '../kube/deploy.ts';
import { collectDiagnostics } from '../kube/diagnostics.ts';
import { verifyNeeds } from '../kube/permissions.ts';
import type { KubeObject } from '../manifests/render.ts';
import { rolloutError } from '../plan/diagnostics.ts';
import type { Plan } from '../plan/order.ts';
import type { CheckResult, VerifyReport } from '../report/results.ts';
import { parseDuration } from '../util/duration.ts';
import { errorMessage } from '../util/errors.ts';
import {
  type CheckedSelection,
  checkSelection,
  planStack,
  SELECTION_FLAGS,
  type SelectionSettings,
} from './plan.ts';
import { bool, duration, outputFile, type Setting, speaking } from './settings.ts';
import { kubeconfigSource } from './target.ts';
import { failure, POST_DEPLOY_VERIFY_TIMEOUT, verifyStack } from './verify.ts';

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

export interface RolloutSettings extends SelectionSettings {
  timeout: Setting<string>;
  /** Run the catalog's checks afterwards (with POST_DEPLOY_VERIFY_TIMEOUT per check). */
  verify: Setting<string | boolean>;
  /** Where diagnostics go on failure. */
  diagnostics: Setting<string | undefined>;
  /** Server-side dry run: nothing changes, nothing is waited for or verified. */
  dryRun?: Setting<string | boolean>;
}

export interface DeploySettings extends RolloutSettings {
  kubeconfig: Setting<string | undefined>;
  context: Setting<string | undefined>;
}

export interface DeployHooks {
  log?: (component: string, message: string) => void;
  /** Verify progress: each component once its checks have settled. */
  onComponent?: (component: string, results: readonly CheckResult[]) => void;
  /** The kubeconfig and context in use, as soon as they are known (before the rollout can fail). */
  onKubeconfig?: (path: string | undefined, context: string) => void;
}

export interface CheckedRollout extends CheckedSelection {
  timeoutMs: number;
  verify: boolean;
  dryRun: boolean;
  diagnosticsDir: string;
}

/** Every rollout setting checked, nothing touched (exit 2 here costs no cluster). */
export function checkRollout(s: RolloutSettings): CheckedRollout {
  const sel = checkSelection(s);
  const timeoutMs = duration(s.timeout, '10m');
  const verify = bool(s.verify);
  const dryRun = s.dryRun ? bool(s.dryRun) : false;
  const out = outputFile(s.diagnostics);
  const diagnosticsDir = resolve(out ?? mkdtempSync(join(tmpdir(), 'kindling-diagnostics-')));
  return { ...sel, timeoutMs, verify, dryRun, diagnosticsDir };
}

export interface RolloutOutcome extends DeployStackResult {
  /** Set when verify ran. */
  verified?: VerifyReport;
}

/** Deploys a checked selection to a cluster, then verifies it when asked (not on a dry run). */
export async function rollout(
  c: CheckedRollout,
  kubeConfig: KubeConfig,
  hooks: DeployHooks,
  extraDiagnostics?: (dir: string) => Promise<void>,
): Promise<RolloutOutcome> {
  const out: RolloutOutcome = await deployStack({
    stack: c.stack,
    selection: c.selection,
    sizing: c.sizing,
    kubeConfig,
    timeoutMs: c.timeoutMs,
    dryRun: c.dryRun,
    diagnosticsDir: c.diagnosticsDir,
    ...(hooks.log ? { log: hooks.log } : {}),
    ...(extraDiagnostics ? { extraDiagnostics } : {}),
    ...(c.rendered ? { rendered: c.rendered } : {}),
    // verify runs right after: its RBAC needs (pods/exec, portforward, secrets) are checked up front too
    ...(c.verify && !c.dryRun ? { extraNeeds: verifyNeeds(c.stack.namespace) } : {}),
  });
  if (out.error || !c.verify || c.dryRun) return out;
  const { KubeCluster } = await import('../kube/cluster.ts');
  const report = await verifyStack({
    stack: c.stack,
    components: out.components,
    target: 'kube',
    cluster: new KubeCluster(kubeConfig),
    timeoutMs: parseDuration(POST_DEPLOY_VERIFY_TIMEOUT),
    ...(hooks.onComponent ? { onComponent: hooks.onComponent } : {}),
  });
  return { ...out, verified: report, ...(report.ok ? {} : { error: failure(report) }) };
}

/** The rollout settings' CLI flags, shared by deploy and up. */
export const ROLLOUT_FLAGS = {
  ...SELECTION_FLAGS,
  timeout: '--timeout',
  diagnostics: '--diagnostics',
  dryRun: '--dry-run',
} as const;

export const DEPLOY_FLAGS = {
  ...ROLLOUT_FLAGS,
  kubeconfig: '--kubeconfig',
  context: '--context',
} as const;

export interface DeployOutcome extends RolloutOutcome {
  kubeconfig?: string;
  /** The kubeconfig context deployed to (the current one when none was given). */
  context: string;
}

/** `deploy`: an existing cluster from a kubeconfig (path or content). */
export async function deploy(
  s: DeploySettings,
  hooks: DeployHooks = {},
  work = mkdtempSync(join(tmpdir(), 'kindling-kc-')),
): Promise<DeployOutcome> {
  return speaking(s, DEPLOY_FLAGS, async () => {
    const checked = checkRollout(s);
    const source = kubeconfigSource(s.kubeconfig);
    const { loadKubeConfig } = await import('../kube/config.ts');
    let kubeconfig = source.path;
    if (source.content) {
      kubeconfig = join(work, 'kubeconfig');
      writeFileSync(kubeconfig, source.content, { mode: 0o600 });
    }
    const kc = loadKubeConfig({
      ...(kubeconfig ? { path: kubeconfig } : {}),
      ...(s.context.value ? { context: s.context.value } : {}),
    });
    hooks.onKubeconfig?.(kubeconfig, kc.getCurrentContext());
    const out = await rollout(checked, kc, hooks);
    return { ...out, ...(kubeconfig ? { kubeconfig } : {}), context: kc.getCurrentContext() };
  });
}
