import type { Command } from 'commander';
import { UsageError } from '../../util/errors.ts';

// Placeholder until its issue lands: the command exists so --help lists it, and says plainly it is not built.
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('kindling validate is not built yet');
    });
}
