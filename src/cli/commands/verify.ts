import { type Command, Option } from 'commander';
import { catalogOption, collect, flag, targetFlags } from '../options.ts';
import { printProgress, printReport } from '../verify-output.ts';

interface VerifyFlags {
  target: string;
  endpoint: string[];
  components?: string;
  timeout: string;
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
    .option('--timeout <duration>', 'deadline of each check while its service is not ready', '2m')
    .option('--concurrency <n>', 'checks in flight at once', '16')
    .option('--json <file>', 'write the results as JSON')
    .option('--junit <file>', 'write the results as JUnit XML')
    .option('--kubeconfig <file>', 'target kube: kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'target kube: kubeconfig context')
    .addOption(catalogOption())
    .action(async (o: VerifyFlags) => {
      const { verify } = await import('../../app/verify.ts');
      const out = await verify(
        {
          ...targetFlags(o),
          catalog: flag('--catalog', o.catalog),
          components: flag('--components', o.components),
          timeout: flag('--timeout', o.timeout),
          concurrency: flag('--concurrency', o.concurrency),
          json: flag('--json', o.json),
          junit: flag('--junit', o.junit),
        },
        { onComponent: printProgress },
      );
      printReport(out.report);
      if (out.error) throw out.error;
    });
}
