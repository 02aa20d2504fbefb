import { type Command, Option } from 'commander';
import { FailedError } from '../../util/errors.ts';
import { paintProblems, useColour } from '../colour.ts';
import { catalogOption, flag } from '../options.ts';

/** `kindling validate`: renders the stack for a sizing and checks it offline, in one pass. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Render the manifests for a sizing and check everything offline: YAML, strict Kubernetes schema, references, policy and the catalog; every problem with file:line',
    )
    .addOption(catalogOption())
    .option(
      '--sizing <overlay>',
      "kustomize overlay from the catalog's render.overlays (default: render.defaultSizing, i.e. kind)",
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'),
    )
    .addHelpText('after', '\nExit status: 0 no errors (warnings allowed), 1 problems found, 2 usage error.')
    .action(async (o: { catalog: string; sizing?: string; format: 'text' | 'json' | 'github' }) => {
      const { validate } = await import('../../app/validate.ts');
      const out = await import('../../manifests/output.ts');
      const result = await validate({
        catalog: flag('--catalog', o.catalog),
        sizing: flag('--sizing', o.sizing),
      });
      if (o.format === 'json') process.stdout.write(out.formatJson(result));
      else process.stdout.write(paintProblems(out.formatText(result), useColour(process.stdout)));
      if (o.format === 'github') await out.writeGithub(result);
      if (out.counts(result.problems).errors > 0) throw new FailedError(out.summaryLine(result));
    });
}
