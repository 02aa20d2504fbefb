/**
 * The deploy action: inputs → `up` (cluster kind) or `deploy` (cluster existing) → outputs and a job
 * summary. Every input is checked before a cluster is created. The post step deletes the kind cluster.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import type { DeployHooks, RolloutOutcome, RolloutSettings } from '../../app/deploy.ts';
import { choice, fromInput, invalid } from '../../app/settings.ts';
import { componentLine } from '../../cli/verify-output.ts';
import { catalogInput, fail, input, inputs, kubeconfigInput } from '../inputs.ts';
import { STATE } from '../state.ts';
import { publish } from './publish.ts';

type Rolled = { out: RolloutOutcome; outputs: Record<string, string> };
const hooks: DeployHooks = {
  log: (c, m) => core.info(`[${c}] ${m}`),
  onComponent: (name, results) => core.info(componentLine(name, results)),
  // set before the rollout, so a failed deploy still says which cluster it was
  onKubeconfig: (path, name) => {
    core.setOutput('kubeconfig', path ?? '');
    core.setOutput('cluster-name', name);
  },
};

export async function run(): Promise<void> {
  try {
    const cluster = choice(input('cluster'), ['kind', 'existing'] as const, 'kind');
    const work = resolve(process.env.RUNNER_TEMP ?? '.', 'kindling');
    mkdirSync(work, { recursive: true });
    const common: RolloutSettings = {
      catalog: catalogInput(),
      ...inputs({ profile: 'profile', components: 'components', sizing: 'sizing', timeout: 'timeout' }),
      ...inputs({ verify: 'verify', dryRun: 'dry-run' }),
      diagnostics: fromInput('diagnostics-dir', join(work, 'diagnostics')),
    };
    const { out, outputs } = await (cluster === 'kind' ? kind : existing)(common, work);
    for (const [k, v] of Object.entries(outputs)) core.setOutput(k, v);
    await publish(out, { cluster, sizing: core.getInput('sizing') });
  } catch (err) {
    fail(err);
  }
}

async function kind(common: RolloutSettings, work: string): Promise<Rolled> {
  const [{ up }, { installKind }] = await Promise.all([
    import('../../app/up.ts'),
    import('../../kind/install.ts'),
  ]);
  const named = { name: 'cluster-name', kindVersion: 'kind-version', nodeImage: 'node-image' };
  const settings = {
    ...common,
    ...inputs({ ...named, registry: 'local-registry', imageArchives: 'image-archives' }),
  };
  const onCluster = (k: { path: string }, name: string) => {
    core.saveState(STATE.kindPath, k.path);
    core.saveState(STATE.clusterName, name);
  };
  const out = await up(settings, { install: (v) => installKind(v) }, work, {
    ...hooks,
    warn: core.warning,
    group: core.group,
    onCluster,
  });
  // kubeconfig and cluster-name were set by onKubeconfig as soon as the cluster existed
  const { kindVersion, nodeImage, registry = '' } = out;
  return { out, outputs: { 'kind-version': kindVersion, 'node-image': nodeImage, registry } };
}

async function existing(common: RolloutSettings, work: string): Promise<Rolled> {
  const kubeconfig = kubeconfigInput();
  if (!kubeconfig.value)
    throw invalid(kubeconfig, 'is required when cluster is "existing" (a path or the kubeconfig content)');
  const { deploy } = await import('../../app/deploy.ts');
  const out = await deploy({ ...common, kubeconfig, context: input('context') }, hooks, work);
  // kubeconfig and cluster-name (its context) were set by onKubeconfig, before the rollout
  return { out, outputs: {} };
}
