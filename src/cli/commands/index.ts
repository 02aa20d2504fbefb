import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every `kindling` command, in the order `--help` lists them. Modules load lazily: a run of one
 * command imports only its module (client-node and the AWS SDK take most of a second to load,
 * and `validate` needs neither).
 */
export const commandModules: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['validate'], load: async () => (await import('./validate.ts')).registerValidate },
  { names: ['plan'], load: async () => (await import('./plan.ts')).registerPlan },
  { names: ['up', 'deploy', 'down'], load: async () => (await import('./deploy.ts')).registerDeploy },
  { names: ['verify'], load: async () => (await import('./verify.ts')).registerVerify },
  { names: ['backup', 'restore', 'backups'], load: async () => (await import('./backup.ts')).registerBackup },
  { names: ['rotate'], load: async () => (await import('./rotate.ts')).registerRotate },
  { names: ['upgrade'], load: async () => (await import('./upgrade.ts')).registerUpgrade },
];

/** The registrations needed to run `argv`: just the named command's module, or all of them. */
export async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  // `kindling --version` needs no command at all (loading them all took over a second)
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return [];
  const first = argv.find((a) => !a.startsWith('-'));
  const own = commandModules.find((m) => first !== undefined && m.names.includes(first));
  const wanted = own ? [own] : commandModules;
  return Promise.all(wanted.map((m) => m.load()));
}
