import { type Command, Option } from 'commander';
import { catalogOption, collect } from '../options.ts';

interface RotateFlags {
  target: string;
  endpoint: string[];
  components?: string;
  writeSecrets?: string;
  timeout: string;
  catalog: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  readyTimeout: string;
}

/** `kindling rotate`: the four-step rotation of the catalog's credentials (AWS Secrets Manager's steps). */
export function registerRotate(program: Command): void {
  program
    .command('rotate')
    .description(
      'rotate the credentials of the selected components (createSecret, setSecret, testSecret, finishSecret); resumable after a crash',
    )
    .addOption(
      new Option('--target <target>', 'where the services are').choices(['kube', 'local']).default('local'),
    )
    .option(
      '--endpoint <NAME=URL>',
      'target local: COMPONENT[.ENDPOINT]=URL with the current credential (repeatable)',
      collect,
      [],
    )
    .option('--components <list>', 'components (or profiles) whose credentials rotate, comma separated')
    .option(
      '--write-secrets <file>',
      'file (mode 0600) for the new credentials and the rotation state; never printed',
    )
    .option('--timeout <duration>', 'deadline of each connection to a service', '30s')
    .option('--kubeconfig <file>', 'target kube: kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'target kube: kubeconfig context')
    .option('--namespace <name>', "target kube: the stack's namespace (default: the catalog's)")
    .option(
      '--ready-timeout <duration>',
      'target kube: how long the workloads restarted with the new credential may take to be ready',
      '5m',
    )
    .addOption(catalogOption())
    .addHelpText(
      'after',
      '\nExit status: 0 every credential rotated and the old one refused, 1 a rotation failed or was rolled back, 2 usage error.\nRun it again after an interruption: a pending credential in the file is finished or rolled back.',
    )
    .action(async (o: RotateFlags) => {
      const { faultStep, rotateStack } = await import('../../app/rotate.ts');
      const crashAfter = faultStep(process.env.KINDLING_FAULT_ROTATE_AFTER);
      await rotateStack(
        {
          catalog: o.catalog,
          components: o.components,
          target: o.target,
          endpoints: o.endpoint,
          writeSecrets: o.writeSecrets,
          timeout: o.timeout,
          kubeconfig: o.kubeconfig,
          context: o.context,
          namespace: o.namespace,
          readyTimeout: o.readyTimeout,
        },
        {
          log: (line) => process.stdout.write(`${line}\n`),
          // fault injection for the tests: die like a killed runner, right after the step is on disk
          afterStep: (step) => {
            if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
          },
        },
      );
    });
}
