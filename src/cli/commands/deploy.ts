import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { RolloutOutcome } from '../../app/deploy.ts';
import { deployTable } from '../../report/deploy-summary.ts';
import { formatDuration } from '../../util/duration.ts';
import { catalogOption, flag } from '../options.ts';
import { printProgress, printReport } from '../verify-output.ts';
import { type SelectionFlags, selectionSettings, withSelectionFlags } from './selection.ts';

interface RolloutFlags extends SelectionFlags {
  timeout: string;
  diagnostics?: string;
}

const log = (component: string, message: string) => process.stderr.write(`[${component}] ${message}\n`);
const hooks = { log, onComponent: printProgress };

function rolloutOptions(cmd: Command): Command {
  return withSelectionFlags(cmd)
    .option('--timeout <duration>', 'deadline for each component to become ready', '10m')
    .option('--diagnostics <dir>', 'where to write diagnostics on failure')
    .addOption(catalogOption());
}

const rolloutSettings = (o: RolloutFlags, verify: boolean) => ({
  ...selectionSettings(o),
  timeout: flag('--timeout', o.timeout),
  diagnostics: flag('--diagnostics', o.diagnostics),
  verify: flag('--no-verify', verify),
});

function report(out: RolloutOutcome): void {
  for (const w of out.plan.warnings) log('plan', `warning: ${w}`);
  process.stdout.write(`${deployTable(out.result.components)}\n`);
  if (out.verified) printReport(out.verified);
  if (out.error) throw out.error;
}

function printReachable(out: RolloutOutcome, context: string): void {
  const lines = ['', 'reachable (from this machine):'];
  for (const c of out.components)
    for (const e of c.endpoints)
      lines.push(
        `  ${c.name}.${e.name}: kubectl --context ${context} -n ${out.plan.namespace} port-forward svc/${e.service} ${e.port}:${e.port}  → ${e.scheme}://127.0.0.1:${e.port}${e.path ?? ''}`,
      );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `kindling up`, `deploy`, `down`. */
export function registerDeploy(program: Command): void {
  rolloutOptions(
    program
      .command('up')
      .description('create a local kind cluster, deploy the profile, verify it, print where each service is')
      .option('--name <name>', 'kind cluster name', 'kindling')
      .option(
        '--kind-version <version>',
        'kind version (must match the kind on PATH; picks the node image pin)',
      )
      .option('--node-image <image>', 'kind node image (default: the one pinned for the kind version)')
      .option('--no-verify', 'skip the health checks after deploying')
      .option(
        '--registry [port]',
        'run a local registry the nodes pull from as localhost:PORT (default 5001)',
      )
      .option('--load-images <archives...>', 'docker-save tarballs to load into the nodes before deploying'),
  ).action(
    async (
      o: RolloutFlags & {
        name: string;
        kindVersion?: string;
        nodeImage?: string;
        verify: boolean;
        registry?: string | true;
        loadImages?: string[];
      },
    ) => {
      const [{ up }, { findKindOnPath }] = await Promise.all([
        import('../../app/up.ts'),
        import('../../kind/install.ts'),
      ]);
      const started = Date.now();
      const out = await up(
        {
          ...rolloutSettings(o, o.verify),
          name: flag('--name', o.name),
          kindVersion: flag('--kind-version', o.kindVersion),
          nodeImage: flag('--node-image', o.nodeImage),
          registry: flag('--registry', o.registry),
          imageArchives: flag('--load-images', o.loadImages),
        },
        { installed: () => findKindOnPath() },
        mkdtempSync(join(tmpdir(), 'kindling-kc-')),
        { ...hooks, warn: (m) => log('preflight', `warning: ${m}`) },
      );
      log('kind', `${out.kindVersion} with ${out.nodeImage}`);
      report(out);
      printReachable(out, `kind-${out.clusterName}`);
      process.stdout.write(`up in ${formatDuration(Date.now() - started)}; kubeconfig: ${out.kubeconfig}\n`);
    },
  );

  rolloutOptions(
    program
      .command('deploy')
      .description('apply the profile to an existing cluster in dependency order and wait until ready')
      .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context')
      .option('--dry-run', 'server-side dry run: validate every object against the cluster, change nothing')
      .option('--verify', 'run the health checks after deploying'),
  ).action(
    async (
      o: RolloutFlags & { kubeconfig?: string; context?: string; dryRun?: boolean; verify?: boolean },
    ) => {
      const { deploy } = await import('../../app/deploy.ts');
      const out = await deploy(
        {
          ...rolloutSettings(o, Boolean(o.verify)),
          verify: flag('--verify', Boolean(o.verify)),
          kubeconfig: flag('--kubeconfig', o.kubeconfig),
          context: flag('--context', o.context),
          dryRun: flag('--dry-run', Boolean(o.dryRun)),
        },
        hooks,
      );
      report(out);
    },
  );

  program
    .command('down')
    .description('delete the local kind cluster')
    .option('--name <name>', 'kind cluster name', 'kindling')
    .action(async (o: { name: string }) => {
      const [{ down }, { findKindOnPath }] = await Promise.all([
        import('../../app/up.ts'),
        import('../../kind/install.ts'),
      ]);
      const deleted = await down(flag('--name', o.name), () => findKindOnPath());
      process.stdout.write(
        deleted ? `deleted kind cluster ${o.name}\n` : `no kind cluster named ${o.name}\n`,
      );
    });
}
