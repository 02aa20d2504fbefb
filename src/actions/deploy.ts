/**
 * The deploy action (main step): kind cluster or existing cluster → dependency-ordered apply and wait
 * → optional verify → outputs, job summary, diagnostics directory on failure. The post step
 * (deploy-post.ts) deletes the kind cluster unless keep-cluster, also after a failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { deployStack } from '../app/deploy.ts';
import { loadStack } from '../catalog/index.ts';
import { resolveSelection } from '../catalog/resolve.ts';
import { localRegistryHostingConfigMap } from '../kind/config.ts';
import { installKind } from '../kind/install.ts';
import { KindCli } from '../kind/kind.ts';
import { checkDocker, hostFindings } from '../kind/preflight.ts';
import { type Registry, registryFor } from '../kind/registry.ts';
import { setUpKindCluster } from '../kind/setup.ts';
import { chooseKind } from '../kind/versions.ts';
import { KubeClient } from '../kube/client.ts';
import { KubeCluster } from '../kube/cluster.ts';
import { loadKubeConfig } from '../kube/config.ts';
import { renderProfile } from '../manifests/render.ts';
import { deploySummary, timeToReady } from '../report/deploy-summary.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import {
  booleanInput,
  catalogInput,
  choiceInput,
  durationInput,
  listInput,
  runAction,
  stringInput,
} from './inputs.ts';

async function run(): Promise<void> {
  const clusterMode = choiceInput('cluster', ['kind', 'existing'] as const, 'kind');
  const clusterName = stringInput('cluster-name') || 'kindling';
  const kubeconfigInput = stringInput('kubeconfig', { secret: true });
  const context = stringInput('context');
  const selection = [...listInput('profile'), ...listInput('components')];
  const sizing = stringInput('sizing') || 'kind';
  const timeoutMs = durationInput('timeout', '10m');
  const dryRun = booleanInput('dry-run', false);
  const verify = booleanInput('verify', false);
  const catalog = catalogInput();
  const stack = loadStack(catalog);
  const work = resolve(process.env.RUNNER_TEMP ?? '.', 'kindling');
  mkdirSync(work, { recursive: true });
  const diagnosticsDir = join(work, 'diagnostics');

  let kubeconfigPath: string;
  let extra: ((dir: string) => Promise<void>) | undefined;
  let registry: Registry | undefined;
  if (clusterMode === 'kind') {
    // every input is checked before anything is created: a typo must not cost a cluster
    const { kindVersion, nodeImage } = chooseKind({
      requested: stringInput('kind-version'),
      nodeImage: stringInput('node-image'),
      names: { version: 'input "kind-version"', image: 'input "node-image"' },
    });
    resolveSelection(stack, selection.length ? selection : ['minimal']);
    await renderProfile(stack, sizing);
    const registryPort = stringInput('local-registry');
    const port = registryPort ? parseRegistryPort(registryPort) : 0;
    registry = port ? registryFor(port) : undefined;
    await checkDocker();
    for (const f of await hostFindings()) core.warning(f.message);
    const kind = await installKind(kindVersion);
    const cli = new KindCli(kind.path);
    core.saveState('kind-path', kind.path);
    core.saveState('cluster-name', clusterName);
    core.setOutput('kind-version', kind.version);
    core.setOutput('node-image', nodeImage);
    await core.group(`kind create cluster ${clusterName}`, () =>
      setUpKindCluster(cli, {
        name: clusterName,
        nodeImage,
        ...(registry ? { registry } : {}),
        imageArchives: listInput('image-archives'),
        log: (m) => core.info(m),
      }),
    );
    kubeconfigPath = await cli.exportKubeconfig(clusterName, join(work, 'kubeconfig'));
    extra = (dir) => cli.exportLogs(clusterName, join(dir, 'kind-logs'));
  } else {
    if (!kubeconfigInput)
      throw new UsageError(
        'input "kubeconfig" is required when cluster is "existing" (a path or the kubeconfig content)',
      );
    const looksLikeContent = /\n/.test(kubeconfigInput) || /^\s*apiVersion:/.test(kubeconfigInput);
    kubeconfigPath = looksLikeContent ? join(work, 'kubeconfig') : resolve(kubeconfigInput);
    if (looksLikeContent) writeFileSync(kubeconfigPath, kubeconfigInput, { mode: 0o600 });
  }
  core.setOutput('kubeconfig', kubeconfigPath);
  core.setOutput('cluster-name', clusterMode === 'kind' ? clusterName : context || '');
  const kc = loadKubeConfig({ path: kubeconfigPath, ...(context ? { context } : {}) });
  if (registry) {
    await new KubeClient(kc).apply(localRegistryHostingConfigMap(registry.hostPort));
    core.setOutput('registry', `localhost:${registry.hostPort}`);
  }

  const out = await deployStack({
    stack,
    selection: selection.length ? selection : ['minimal'],
    sizing,
    kubeConfig: kc,
    timeoutMs,
    dryRun,
    diagnosticsDir,
    log: (component, message) => core.info(`[${component}] ${message}`),
    ...(extra ? { extraDiagnostics: extra } : {}),
  });
  core.setOutput('kubectl-version', out.serverVersion ?? '');
  core.setOutput(
    'components',
    JSON.stringify(
      out.result.components.filter((c) => c.state === 'ready' || c.state === 'applied').map((c) => c.name),
    ),
  );
  core.setOutput('time-to-ready', JSON.stringify(timeToReady(out.result.components)));
  core.setOutput('diagnostics-dir', out.diagnosticsDir ?? '');
  for (const w of out.plan.warnings) core.warning(w);
  const meta: Record<string, string> = { cluster: clusterMode, sizing };
  if (out.serverVersion) meta.kubernetes = out.serverVersion;
  await core.summary.addRaw(deploySummary(out.result.components, meta)).write();
  if (out.error) {
    for (const p of (out.error as FailedError).problems ?? []) core.error(p, { title: 'kindling deploy' });
    throw out.error;
  }
  if (verify && !dryRun) {
    const { verifyStack } = await import('../app/verify.ts');
    const report = await verifyStack({
      stack,
      components: out.components,
      target: 'kube',
      cluster: new KubeCluster(kc),
      timeoutMs: 120_000,
    });
    if (!report.ok) throw new FailedError(`verify: ${report.failed} check(s) failed`);
    core.info(`verify: ${report.passed} check(s) passed`);
  }
}

await runAction(run);

/** `local-registry`: `true` for the default port 5001, or a port number. */
function parseRegistryPort(value: string): number {
  if (value === 'true') return 5001;
  if (value === 'false') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`input "local-registry" must be true, false or a port number (got "${value}")`);
  return port;
}
