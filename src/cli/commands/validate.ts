import { type Command, Option } from 'commander';
import { FailedError } from '../../util/errors.ts';
import { catalogOption } from '../options.ts';

interface ValidateFlags {
  catalog: string;
  profile?: string;
  format: 'text' | 'json' | 'github';
}

/** `kindling validate`: renders the stack for a sizing profile and checks it offline, in one pass. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Render the manifests for a sizing profile and check everything offline: YAML, strict Kubernetes schema, references, policy and the catalog; every problem with file:line',
    )
    .addOption(catalogOption())
    .option(
      '--profile <name>',
      "sizing overlay from the catalog's render.overlays (default: render.defaultProfile, i.e. kind)",
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'),
    )
    .addHelpText('after', '\nExit status: 0 no errors (warnings allowed), 1 problems found, 2 usage error.')
    .action(async (flags: ValidateFlags) => {
      // kustomize first, so it renders on the other core while the checks load
      const { startEarlyRender } = await import('../../manifests/early-render.ts');
      const early = startEarlyRender(flags.catalog, flags.profile);
      // loaded here, not at start-up, so other commands do not pay for the validators
      const { validateStack } = await import('../../manifests/validate.ts');
      const out = await import('../../manifests/output.ts');
      const result = await validateStack({ catalog: flags.catalog, profile: flags.profile, early });
      if (flags.format === 'json') process.stdout.write(out.formatJson(result));
      else process.stdout.write(out.formatText(result));
      if (flags.format === 'github') await out.writeGithub(result);
      const { errors } = out.counts(result.problems);
      if (errors > 0) throw new FailedError(out.summaryLine(result));
    });
}
