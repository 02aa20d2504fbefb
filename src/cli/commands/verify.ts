import { type Command, Option } from 'commander';
// registers the client-node Cluster behind target kube
import '../../kube/register.ts';
import { verifyStack } from '../../app/verify.ts';
import { loadStack } from '../../catalog/index.ts';
import { selectForVerify } from '../../probes/select.ts';
import { renderTable } from '../../report/verify-console.ts';
import { toJson, toJunit, writeReportFile } from '../../report/verify-files.ts';
import { connectCluster } from '../../targets/connect.ts';
import { parseEndpointFlags } from '../../targets/endpoints.ts';
import { FailedError, UsageError } from '../../util/errors.ts';
import { catalogOption, collect, durationOption, splitList } from '../options.ts';

interface VerifyFlags {
  target: 'kube' | 'local';
  endpoint: string[];
  components?: string;
  timeout: number;
  concurrency: string;
  json?: string;
  junit?: string;
  catalog: string;
  kubeconfig?: string;
  context?: string;
}

/** `kindling verify`: the catalog's health checks as assertions, on a cluster or on given URLs. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'prove each service healthy at the protocol level (exit 0 all passed, 1 a check failed, 2 usage)',
    )
    .addOption(
      new Option('--target <target>', 'where the services are').choices(['kube', 'local']).default('kube'),
    )
    .option(
      '--endpoint <NAME=URL>',
      'target local: COMPONENT[.ENDPOINT]=URL, credentials in the URL (repeatable)',
      collect,
      [],
    )
    .option('--components <list>', 'components or profiles to check, comma separated (default: all)')
    .addOption(
      durationOption('--timeout <duration>', 'deadline of each check while its service is not ready', '2m'),
    )
    .option('--concurrency <n>', 'checks in flight at once', '16')
    .option('--json <file>', 'write the results as JSON')
    .option('--junit <file>', 'write the results as JUnit XML')
    .option('--kubeconfig <file>', 'target kube: kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'target kube: kubeconfig context')
    .addOption(catalogOption())
    .action(async (flags: VerifyFlags) => {
      const stack = loadStack(flags.catalog);
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new UsageError(`--concurrency must be a whole number >= 1 (got "${flags.concurrency}")`);
      const endpoints = parseEndpointFlags(stack, flags.endpoint);
      const components = selectForVerify(stack, {
        target: flags.target,
        names: splitList(flags.components),
        endpoints,
      });
      const cluster =
        flags.target === 'kube'
          ? await connectCluster({ kubeconfigPath: flags.kubeconfig, context: flags.context })
          : undefined;
      const report = await verifyStack({
        stack,
        components,
        target: flags.target,
        cluster,
        endpoints,
        timeoutMs: flags.timeout,
        concurrency,
      });
      process.stdout.write(
        renderTable(report, { color: process.stdout.isTTY === true, width: process.stdout.columns }),
      );
      if (flags.json) writeReportFile(flags.json, toJson(report));
      if (flags.junit) writeReportFile(flags.junit, toJunit(report));
      if (!report.ok) {
        const failed = report.results
          .filter((r) => r.status === 'fail')
          .map((r) => `${r.component}/${r.check}`);
        throw new FailedError(
          failed.length
            ? `${failed.length} check(s) failed: ${failed.join(', ')}`
            : 'no check ran: nothing was verified',
        );
      }
    });
}
