import type { Command } from 'commander';
import { UsageError } from '../../util/errors.ts';

// Placeholder until its issue lands: the command exists so --help lists it, and says plainly it is not built.
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('kindling plan is not built yet');
    });
}
