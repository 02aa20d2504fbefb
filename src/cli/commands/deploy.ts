import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadStack } from '../../catalog/index.ts';
import type { Component, Stack } from '../../catalog/types.ts';
import { localRegistryHostingConfigMap } from '../../kind/config.ts';
import { findKindOnPath } from '../../kind/install.ts';
import { KindCli } from '../../kind/kind.ts';
import { checkDocker, hostFindings } from '../../kind/preflight.ts';
import { registryFor } from '../../kind/registry.ts';
import { setUpKindCluster } from '../../kind/setup.ts';
import { chooseKind, KIND_NODE_IMAGES } from '../../kind/versions.ts';
import { KubeClient } from '../../kube/client.ts';
import { KubeCluster } from '../../kube/cluster.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import '../../kube/register.ts';
import { deployStack } from '../../app/deploy.ts';
import { resolveSelection } from '../../catalog/resolve.ts';
import { type KubeObject, parseRendered, renderProfile } from '../../manifests/render.ts';
import { deployTable } from '../../report/deploy-summary.ts';
import { formatDuration } from '../../util/duration.ts';
import { FailedError } from '../../util/errors.ts';
import { catalogOption, durationOption } from '../options.ts';
import { type SelectionFlags, selectionFrom, withSelectionFlags } from './selection.ts';

interface DeployFlags extends SelectionFlags {
  catalog: string;
  kubeconfig?: string;
  context?: string;
  timeout: number;
  dryRun?: boolean;
  diagnostics?: string;
}

interface UpFlags extends SelectionFlags {
  catalog: string;
  name: string;
  kindVersion?: string;
  nodeImage?: string;
  timeout: number;
  verify: boolean;
  diagnostics?: string;
  registry?: string | true;
  loadImages?: string[];
  rendered?: string;
}

const log = (component: string, message: string) => process.stderr.write(`[${component}] ${message}\n`);

function selectionOptions(cmd: Command): Command {
  return withSelectionFlags(cmd)
    .addOption(durationOption('--timeout <duration>', 'deadline for each component to become ready', '10m'))
    .option('--diagnostics <dir>', 'where to write diagnostics on failure')
    .option('--rendered <file>', 'apply this rendered YAML instead of running kustomize on the overlay')
    .addOption(catalogOption());
}

async function rollout(
  stack: Stack,
  flags: SelectionFlags & { timeout: number; dryRun?: boolean; diagnostics?: string; rendered?: string },
  kc: KubeConfig,
  extra?: (dir: string) => Promise<void>,
  rendered?: readonly KubeObject[],
) {
  const diagnosticsDir = resolve(flags.diagnostics ?? mkdtempSync(join(tmpdir(), 'kindling-diagnostics-')));
  const out = await deployStack({
    stack,
    selection: selectionFrom(flags),
    sizing: flags.sizing,
    kubeConfig: kc,
    timeoutMs: flags.timeout,
    dryRun: !!flags.dryRun,
    diagnosticsDir,
    log,
    ...(extra ? { extraDiagnostics: extra } : {}),
    ...(rendered
      ? { rendered }
      : flags.rendered
        ? { rendered: parseRendered(readFileSync(flags.rendered, 'utf8')) }
        : {}),
  });
  for (const w of out.plan.warnings) log('plan', `warning: ${w}`);
  process.stdout.write(`${deployTable(out.result.components)}\n`);
  if (out.error) throw out.error;
  return out;
}

async function runVerify(stack: Stack, components: Component[], kc: KubeConfig): Promise<void> {
  const { verifyStack } = await import('../../app/verify.ts');
  const { renderTable } = await import('../../report/verify-console.ts');
  const report = await verifyStack({
    stack,
    components,
    target: 'kube',
    cluster: new KubeCluster(kc),
    timeoutMs: 120_000,
  });
  process.stdout.write(`${renderTable(report)}\n`);
  if (!report.ok) throw new FailedError(`verify: ${report.failed} check(s) failed`);
}

function printReachable(stack: Stack, components: Component[], context: string): void {
  const lines = ['', 'reachable (from this machine):'];
  for (const c of components)
    for (const e of c.endpoints)
      lines.push(
        `  ${c.name}.${e.name}: kubectl --context ${context} -n ${stack.namespace} port-forward svc/${e.service} ${e.port}:${e.port}  → ${e.scheme}://127.0.0.1:${e.port}${e.path ?? ''}`,
      );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `kindling up`, `deploy`, `down`. */
export function registerDeploy(program: Command): void {
  selectionOptions(
    program
      .command('up')
      .description('create a local kind cluster, deploy the profile, verify it, print where each service is')
      .option('--name <name>', 'kind cluster name', 'kindling')
      .option(
        '--kind-version <version>',
        `kind version whose pinned node image to use (default: the kind on PATH; pinned: ${Object.keys(KIND_NODE_IMAGES).join(', ')})`,
      )
      .option('--node-image <image>', 'kind node image (default: the one pinned for the kind version)')
      .option('--no-verify', 'skip the health checks after deploying')
      .option(
        '--registry [port]',
        'run a local registry the nodes pull from as localhost:PORT (default 5001)',
      )
      .option('--load-images <archives...>', 'docker-save tarballs to load into the nodes before deploying'),
  ).action(async (flags: UpFlags) => {
    const stack = loadStack(flags.catalog);
    const started = Date.now();
    // every flag is checked before Docker is asked for anything: a typo must not cost a cluster
    const names = { version: '--kind-version', image: '--node-image' };
    chooseKind({ requested: flags.kindVersion, nodeImage: flags.nodeImage, names });
    const registry =
      flags.registry === undefined
        ? undefined
        : registryFor(flags.registry === true ? 5001 : Number(flags.registry));
    const rendered = flags.rendered
      ? parseRendered(readFileSync(flags.rendered, 'utf8'))
      : await renderProfile(stack, flags.sizing);
    resolveSelection(stack, selectionFrom(flags));
    await checkDocker(); // exits 2 within seconds when there is no engine
    for (const f of await hostFindings()) log('preflight', `${f.level}: ${f.message}`);
    const kind = await findKindOnPath();
    const { nodeImage } = chooseKind({
      requested: flags.kindVersion,
      installed: kind.version,
      nodeImage: flags.nodeImage,
      names,
    });
    log('kind', `${kind.version} with ${nodeImage}`);
    const cli = new KindCli(kind.path);
    await setUpKindCluster(cli, {
      name: flags.name,
      nodeImage,
      ...(registry ? { registry } : {}),
      imageArchives: flags.loadImages ?? [],
      log: (m) => log('kind', m),
    });
    const kubeconfig = await cli.exportKubeconfig(
      flags.name,
      join(mkdtempSync(join(tmpdir(), 'kindling-kc-')), 'kubeconfig'),
    );
    const kc = loadKubeConfig({ path: kubeconfig });
    if (registry) await new KubeClient(kc).apply(localRegistryHostingConfigMap(registry.hostPort));
    const out = await rollout(
      stack,
      flags,
      kc,
      (dir) => cli.exportLogs(flags.name, join(dir, 'kind-logs')),
      rendered,
    );
    if (flags.verify) await runVerify(stack, out.components, kc);
    printReachable(stack, out.components, `kind-${flags.name}`);
    process.stdout.write(`up in ${formatDuration(Date.now() - started)}; kubeconfig: ${kubeconfig}\n`);
  });

  selectionOptions(
    program
      .command('deploy')
      .description('apply the profile to an existing cluster in dependency order and wait until ready')
      .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context')
      .option('--dry-run', 'server-side dry run: validate every object against the cluster, change nothing'),
  ).action(async (flags: DeployFlags) => {
    const stack = loadStack(flags.catalog);
    const kc = loadKubeConfig({
      ...(flags.kubeconfig ? { path: flags.kubeconfig } : {}),
      ...(flags.context ? { context: flags.context } : {}),
    });
    await rollout(stack, flags, kc);
  });

  program
    .command('down')
    .description('delete the local kind cluster')
    .option('--name <name>', 'kind cluster name', 'kindling')
    .action(async (flags: { name: string }) => {
      const kind = await findKindOnPath();
      const cli = new KindCli(kind.path);
      if (!(await cli.clusters()).includes(flags.name)) {
        process.stdout.write(`no kind cluster named ${flags.name}\n`);
        return;
      }
      await cli.delete(flags.name);
      process.stdout.write(`deleted kind cluster ${flags.name}\n`);
    });
}
