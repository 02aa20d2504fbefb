import { type Command, Option } from 'commander';
import { COMPRESSIONS } from '../../backup/compression.ts';
import { catalogOption, collect, flag, storeFlags, targetFlags } from '../options.ts';

/**
 * `backup`, `restore`, `backups list|verify|prune`. Each command loads only its own use case: the
 * AWS SDK and drivers load when a backup command runs, and `backup` never pays for restore code.
 */
interface StoreFlags {
  store?: string;
  s3Endpoint?: string;
  catalog: string;
  json?: boolean;
}
interface TargetFlags {
  target: string;
  endpoint?: string[];
  kubeconfig?: string;
  context?: string;
}

const storeOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--store <url>', 'backup store, s3://BUCKET/PREFIX').env('KINDLING_STORE'))
    .addOption(
      new Option('--s3-endpoint <url>', 'S3 endpoint (MinIO, R2…); default AWS').env('KINDLING_S3_ENDPOINT'),
    )
    .addOption(catalogOption())
    .option('--json', 'print the result as JSON');

const targetOptions = (cmd: Command) =>
  cmd
    .addOption(
      new Option('--target <target>', 'where the data is').choices(['kube', 'local']).default('kube'),
    )
    .option('--endpoint <NAME=URL>', 'target local: a component endpoint (repeatable)', collect, [])
    .option('--kubeconfig <file>', 'target kube: kubeconfig file')
    .option('--context <name>', 'target kube: kubeconfig context');

const log = (line: string) => process.stderr.write(`${line}\n`);
const print = (json: boolean | undefined, value: unknown, text: string) =>
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text}\n`);

export function registerBackup(program: Command): void {
  targetOptions(
    storeOptions(
      program
        .command('backup')
        .description('back up the stack’s data to S3: streamed, checksummed, manifest written last')
        .option(
          '--components <list>',
          'components to back up (default: all with backups; on target local: those given --endpoint); those without backups are listed as not applicable',
        )
        .option('--compression <kind>', `${COMPRESSIONS.join(', ')}`, 'zstd')
        .option(
          '--retention <policy>',
          'prune afterwards, e.g. keep-last=7,keep-daily=7,keep-weekly=4,keep-monthly=6',
        ),
    ),
  ).action(
    async (
      o: StoreFlags & TargetFlags & { components?: string; compression: string; retention?: string },
    ) => {
      const [{ backup }, { backupText }] = await Promise.all([
        import('../../app/backup.ts'),
        import('../../backup/report.ts'),
      ]);
      const run = await backup(
        {
          ...targetFlags(o),
          ...storeFlags(o),
          catalog: flag('--catalog', o.catalog),
          components: flag('--components', o.components),
          compression: flag('--compression', o.compression),
          retention: flag('--retention', o.retention),
        },
        { log },
      );
      if (run.outcome)
        print(o.json, { ...run.outcome, notApplicable: run.notApplicable }, backupText(run.outcome));
      if (run.notApplicable.length)
        log(`not applicable (no backups in the catalog): ${run.notApplicable.join(', ')}`);
      if (run.error) throw run.error;
    },
  );

  targetOptions(
    storeOptions(
      program
        .command('restore')
        .description(
          'restore a backup: every artifact is re-hashed before the target is touched (spooled meanwhile to $TMPDIR: disk as large as the artifacts, up to 4 GiB; above that, downloaded twice)',
        )
        .option('--backup <id>', 'backup id, or "latest" (the newest complete backup)')
        .option('--components <list>', 'components to restore (default: all in the backup)')
        .option('--database <SRC=DEST>', 'restore database SRC as DEST (repeatable)', collect, [])
        .option('--clean', 'replace existing data instead of refusing a non-empty target')
        .option('--no-globals', 'PostgreSQL: skip roles and tablespaces (restore without owners)'),
    ),
  ).action(
    async (
      o: StoreFlags &
        TargetFlags & {
          backup?: string;
          components?: string;
          database: string[];
          clean?: boolean;
          globals: boolean;
        },
    ) => {
      const [{ restore }, { restoreText }] = await Promise.all([
        import('../../app/restore.ts'),
        import('../../backup/report.ts'),
      ]);
      const r = await restore(
        {
          ...targetFlags(o),
          ...storeFlags(o),
          catalog: flag('--catalog', o.catalog),
          backup: flag('--backup', o.backup),
          components: flag('--components', o.components),
          database: flag('--database', o.database),
          clean: flag('--clean', Boolean(o.clean)),
          globals: flag('--no-globals', o.globals),
        },
        { log },
      );
      print(o.json, r.outcome, restoreText(r.outcome));
      if (r.error) throw r.error;
    },
  );

  const backups = program.command('backups').description('list, verify and prune stored backups');

  storeOptions(backups.command('list').description('id, age, components, bytes, complete or not'))
    .option('--grace <duration>', 'a backup without manifest idle longer than this is an orphan', '24h')
    .action(async (o: StoreFlags & { grace: string }) => {
      const [{ listBackups }, { listText }] = await Promise.all([
        import('../../app/backups.ts'),
        import('../../backup/report.ts'),
      ]);
      const { backups: list, graceMs } = await listBackups({
        ...storeFlags(o),
        grace: flag('--grace', o.grace),
      });
      print(
        o.json,
        list.map(({ keys: _k, manifest, ...b }) => ({
          ...b,
          complete: Boolean(manifest),
          components: manifest?.components.map((c) => c.component),
        })),
        listText(list, new Date(), graceMs),
      );
    });

  targetOptions(
    storeOptions(
      backups
        .command('verify')
        .description(
          're-hash every artifact against the manifest; --drill also restores into a scratch target and compares',
        )
        .argument('<id>', 'backup id or "latest"')
        .option('--drill', 'restore into the --scratch target and compare it with the source (--endpoint)')
        .option('--scratch <NAME=URL>', 'drill: scratch endpoint for a component (repeatable)', collect, [])
        .option('--components <list>', 'drill: components to restore (default: all in the backup)'),
    ),
  ).action(
    async (
      id: string,
      o: StoreFlags & TargetFlags & { drill?: boolean; scratch: string[]; components?: string },
    ) => {
      const [{ verifyBackup }, { verifyText, drillText }] = await Promise.all([
        import('../../app/backups.ts'),
        import('../../backup/report.ts'),
      ]);
      const r = await verifyBackup(
        {
          ...targetFlags(o),
          ...storeFlags(o),
          catalog: flag('--catalog', o.catalog),
          id: flag('<id>', id),
          drill: flag('--drill', Boolean(o.drill)),
          scratch: flag('--scratch', o.scratch),
          components: flag('--components', o.components),
        },
        { log },
      );
      if (!r.drill)
        print(o.json, { id: r.id, ok: !r.error, artifacts: r.artifacts }, verifyText(r.id, r.artifacts));
      else {
        log(verifyText(r.id, r.artifacts));
        print(o.json, { id: r.id, artifacts: r.artifacts, drill: r.drill }, drillText(r.drill));
      }
      if (r.error) throw r.error;
    },
  );

  storeOptions(
    backups
      .command('prune')
      .description(
        'apply retention (computed from manifests); remove orphaned prefixes older than the grace period',
      )
      .option('--keep-last <n>', 'keep the N newest complete backups')
      .option('--keep-daily <n>', 'keep the newest backup of each of the last N days')
      .option('--keep-weekly <n>', 'keep the newest backup of each of the last N weeks')
      .option('--keep-monthly <n>', 'keep the newest backup of each of the last N months')
      .option('--grace <duration>', 'incomplete backups idle longer than this are orphans', '24h')
      .option('--dry-run', 'print the plan, delete nothing'),
  ).action(
    async (
      o: StoreFlags & {
        keepLast?: string;
        keepDaily?: string;
        keepWeekly?: string;
        keepMonthly?: string;
        grace: string;
        dryRun?: boolean;
      },
    ) => {
      const [{ pruneBackups }, { pruneText }] = await Promise.all([
        import('../../app/backups.ts'),
        import('../../backup/report.ts'),
      ]);
      const r = await pruneBackups({
        ...storeFlags(o),
        keepLast: flag('--keep-last', o.keepLast),
        keepDaily: flag('--keep-daily', o.keepDaily),
        keepWeekly: flag('--keep-weekly', o.keepWeekly),
        keepMonthly: flag('--keep-monthly', o.keepMonthly),
        grace: flag('--grace', o.grace),
        dryRun: flag('--dry-run', Boolean(o.dryRun)),
      });
      print(
        o.json,
        { dryRun: r.dryRun, ...r.plan, abortedUploads: r.abortedUploads },
        pruneText(r.plan, r.dryRun),
      );
    },
  );
}
