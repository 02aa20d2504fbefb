import type { Command } from 'commander';
import { registerBackup } from './backup.ts';
import { registerDeploy } from './deploy.ts';
import { registerPlan } from './plan.ts';
import { registerValidate } from './validate.ts';
import { registerVerify } from './verify.ts';

/** Every `kindling` command, in the order `--help` lists them. */
export const commands: ((program: Command) => void)[] = [
  registerValidate,
  registerPlan,
  registerDeploy, // up, deploy, down
  registerVerify,
  registerBackup, // backup, restore, backups list|verify|prune
];
