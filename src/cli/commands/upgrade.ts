import { appendFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { outputFile } from '../../app/settings.ts';
import { catalogOption, collect, flag, storeFlags } from '../options.ts';

interface UpgradeFlags {
  catalog: string;
  set: string[];
  manifests?: string;
  finish: string[];
  sizing?: string;
  rendered?: string;
  timeout: string;
  verifyTimeout: string;
  keepBlue?: string;
  finishAfter?: string;
  dryRun?: boolean;
  kubeconfig?: string;
  context?: string;
  store?: string;
  s3Endpoint?: string;
  compression: string;
  summary?: string;
  json?: string;
}

const log = (component: string, message: string) => process.stderr.write(`[${component}] ${message}\n`);

/** `kindling upgrade`: new images or a changed tree, by each component's catalog strategy. */
export function registerUpgrade(program: Command): void {
  program
    .command('upgrade')
    .description(
      'upgrade images (--set) or a changed manifest tree (--manifests): the plan first, then rolling with automatic rollback, blue-green or dump-restore as the catalog says (exit 0 upgraded, 1 failed or rolled back, 2 usage)',
    )
    .option('--set <COMPONENT[/CONTAINER]=IMAGE>', 'new image of a component (repeatable)', collect, [])
    .option('--manifests <dir>', 'a changed manifest tree (a directory holding stack.yaml)')
    .option(
      '--finish <component>',
      'finish a blue-green upgrade: blue takes the new version, green goes (repeatable)',
      collect,
      [],
    )
    .option('--dry-run', 'print the plan only; change nothing')
    .option('--sizing <overlay>', "kustomize overlay from the catalog's render.overlays (default kind)")
    .option('--rendered <file>', 'use this rendered YAML instead of running kustomize on the overlay')
    .option('--timeout <duration>', 'deadline for each component to become ready', '10m')
    .option('--verify-timeout <duration>', 'deadline of each check after the upgrade', '2m')
    .option(
      '--keep-blue <duration>',
      "how long blue is kept after a switch (default: the catalog's upgrade.keepBlue, 1h); after it, the next kindling upgrade finishes the switch",
    )
    .option(
      '--finish-after <duration>',
      'blue-green: keep blue this long while re-verifying green (switching back on a failure), then finish',
    )
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--store <s3://BUCKET/PREFIX>', 'dump-restore: where the backup of blue goes')
    .option('--s3-endpoint <url>', 'S3 endpoint (MinIO); default AWS')
    .option('--compression <zstd|gzip|none>', 'dump-restore: compression of the backup', 'zstd')
    .option('--summary <file>', 'append the Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--json <file>', 'write the outcome as JSON')
    .addOption(catalogOption())
    .action(async (o: UpgradeFlags) => {
      const summaryFile = outputFile(flag('--summary', o.summary));
      const jsonFile = outputFile(flag('--json', o.json));
      const [{ upgrade }, { upgradeSummary, upgradeTable }, { planLines }] = await Promise.all([
        import('../../app/upgrade.ts'),
        import('../../report/upgrade-summary.ts'),
        import('../../upgrade/diff.ts'),
      ]);
      const out = await upgrade(
        {
          catalog: flag('--catalog', o.catalog),
          sets: flag('--set', o.set),
          manifests: flag('--manifests', o.manifests),
          finish: flag('--finish', o.finish),
          sizing: flag('--sizing', o.sizing),
          rendered: flag('--rendered', o.rendered),
          timeout: flag('--timeout', o.timeout),
          verifyTimeout: flag('--verify-timeout', o.verifyTimeout),
          keepBlue: flag('--keep-blue', o.keepBlue),
          finishAfter: flag('--finish-after', o.finishAfter),
          dryRun: flag('--dry-run', Boolean(o.dryRun)),
          kubeconfig: flag('--kubeconfig', o.kubeconfig),
          context: flag('--context', o.context),
          compression: flag('--compression', o.compression),
          ...storeFlags(o),
        },
        {
          log,
          // the plan, before anything is applied
          onPlan: (changes) => process.stdout.write(`plan:\n${planLines(changes).join('\n')}\n\n`),
        },
      );
      if (!out.dryRun && out.components.length) {
        const { printReport } = await import('../verify-output.ts');
        // a component that went back: both reports, the new version's and the one after going back
        const back = new Set(['rolled-back', 'switched-back', 'rollback-failed']);
        for (const u of out.components.filter((x) => back.has(x.state))) {
          if (u.verify) {
            process.stdout.write(`\n${u.component}: verify of the new version\n`);
            printReport(u.verify);
          }
          if (u.after) {
            process.stdout.write(`\n${u.component}: verify after going back (${u.state})\n`);
            printReport(u.after);
          }
        }
        process.stdout.write(`\n${upgradeTable(out.components)}\n`);
      }
      if (summaryFile)
        appendFileSync(
          summaryFile,
          `${upgradeSummary(out.changes, out.components, { dryRun: out.dryRun })}\n`,
        );
      if (jsonFile)
        writeFileSync(jsonFile, `${JSON.stringify(out, (k, v) => (k === 'error' ? undefined : v), 2)}\n`);
      if (out.error) throw out.error;
    });
}
