import { type Command, Option } from 'commander';
import { COMPRESSIONS, type Compression } from '../../backup/compression.ts';
import { parseDuration } from '../../util/duration.ts';
import { FailedError, UsageError } from '../../util/errors.ts';
import { catalogOption, collect, splitList } from '../options.ts';

/**
 * The backup code (AWS SDK, drivers) loads only when a backup command runs, and each command
 * loads only its own modules: `backup` never pays for restore, drills or ioredis (start-up time
 * and resident memory both count in its benchmark).
 */
const backupLib = async () => {
  const [catalog, report, run, setup] = await Promise.all([
    import('../../catalog/load.ts'),
    import('../../backup/report.ts'),
    import('../../app/backup.ts'),
    import('../../backup/setup.ts'),
  ]);
  return { ...catalog, ...report, ...run, ...setup };
};
const storeLib = async () => {
  const [inventory, report, retention, setup] = await Promise.all([
    import('../../backup/inventory.ts'),
    import('../../backup/report.ts'),
    import('../../backup/retention.ts'),
    import('../../backup/setup.ts'),
  ]);
  return { ...inventory, ...report, ...retention, ...setup };
};
const restoreLib = async () => {
  const [catalog, drill, restore, verify, store] = await Promise.all([
    import('../../catalog/load.ts'),
    import('../../backup/drill.ts'),
    import('../../backup/restore.ts'),
    import('../../backup/verify.ts'),
    storeLib(),
  ]);
  return { ...catalog, ...drill, ...restore, ...verify, ...store };
};

interface StoreFlags {
  store: string;
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
    .addOption(
      new Option('--store <url>', 'backup store, s3://BUCKET/PREFIX')
        .env('KINDLING_STORE')
        .makeOptionMandatory(),
    )
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

function compressionOf(value: string): Compression {
  if (!(COMPRESSIONS as readonly string[]).includes(value))
    throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')} (got "${value}")`);
  return value as Compression;
}

function renames(flags: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of flags) {
    const [from, to] = f.split('=', 2);
    if (!from || !to) throw new UsageError(`--database "${f}" must be SOURCE=DESTINATION`);
    out.set(from, to);
  }
  return out;
}

export function registerBackup(program: Command): void {
  targetOptions(
    storeOptions(
      program
        .command('backup')
        .description('back up the stack’s data to S3: streamed, checksummed, manifest written last')
        .option(
          '--components <list>',
          'components to back up (default: all with backups; on target local: those given --endpoint)',
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
      const {
        loadStack,
        withBackups,
        selectBackups,
        openStore,
        openTarget,
        parseRetention,
        runBackup,
        backupText,
        prune,
        pruneText,
      } = await backupLib();
      const stack = loadStack(o.catalog);
      const compression = compressionOf(o.compression);
      const policy = o.retention ? parseRetention(o.retention, '--retention') : undefined;
      const fallback =
        o.target === 'local'
          ? [...new Set((o.endpoint ?? []).map((e) => e.split('=')[0]!.split('.')[0]!))].filter((c) =>
              withBackups(stack).includes(c),
            )
          : withBackups(stack);
      const selected = selectBackups(stack, splitList(o.components), fallback);
      const { store, location } = openStore({ store: o.store, s3Endpoint: o.s3Endpoint });
      const target = await openTarget(stack, {
        target: o.target,
        endpoints: o.endpoint ?? [],
        kubeconfig: o.kubeconfig,
        context: o.context,
      });
      const outcome = await runBackup({ selected, target, store, location, compression, log });
      print(o.json, outcome, backupText(outcome));
      if (!outcome.ok)
        throw new FailedError(
          `backup ${outcome.id} failed; no manifest was written`,
          outcome.components.filter((c) => !c.ok).map((c) => `${c.component}: ${c.error}`),
        );
      if (policy) {
        const { plan } = await prune(store, location, policy, { dryRun: false });
        log(pruneText(plan, false));
      }
    },
  );

  targetOptions(
    storeOptions(
      program
        .command('restore')
        .description('restore a backup: every artifact is re-hashed before the target is touched')
        .requiredOption('--backup <id>', 'backup id, or "latest" (the newest complete backup)')
        .option('--components <list>', 'components to restore (default: all in the backup)')
        .option('--database <SRC=DEST>', 'restore database SRC as DEST (repeatable)', collect, [])
        .option('--clean', 'replace existing data instead of refusing a non-empty target')
        .option('--no-globals', 'PostgreSQL: skip roles and tablespaces (restore without owners)'),
    ),
  ).action(
    async (
      o: StoreFlags &
        TargetFlags & {
          backup: string;
          components?: string;
          database: string[];
          clean?: boolean;
          globals: boolean;
        },
    ) => {
      const { loadStack, openStore, openTarget, loadManifest, runRestore, restoreText } = await restoreLib();
      const stack = loadStack(o.catalog);
      const { store, location } = openStore({ store: o.store, s3Endpoint: o.s3Endpoint });
      const rename = renames(o.database);
      const target = await openTarget(stack, {
        target: o.target,
        endpoints: o.endpoint ?? [],
        kubeconfig: o.kubeconfig,
        context: o.context,
      });
      await store.preflight(location.bucket, location.prefix);
      const manifest = await loadManifest(store, location, o.backup);
      const outcome = await runRestore({
        stack,
        manifest,
        components: splitList(o.components),
        target,
        store,
        location,
        options: { clean: Boolean(o.clean), rename, noGlobals: !o.globals },
        log,
      });
      print(o.json, outcome, restoreText(outcome));
      if (!outcome.ok)
        throw new FailedError(
          `restore of ${manifest.id} failed`,
          outcome.components.filter((c) => !c.ok).map((c) => `${c.component}: ${c.error}`),
        );
    },
  );

  const backups = program.command('backups').description('list, verify and prune stored backups');

  storeOptions(backups.command('list').description('id, age, components, bytes, complete or not'))
    .option('--grace <duration>', 'a backup without manifest idle longer than this is an orphan', '24h')
    .action(async (o: StoreFlags & { grace: string }) => {
      const { openStore, listStoredBackups, listText } = await storeLib();
      const { store, location } = openStore({ store: o.store, s3Endpoint: o.s3Endpoint });
      const graceMs = parseDuration(o.grace, '--grace');
      await store.preflight(location.bucket, location.prefix);
      const list = await listStoredBackups(store, location);
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
      const { openStore, loadManifest, rehashAll, verifyText, loadStack, openTarget, runDrill, drillText } =
        await restoreLib();
      const { store, location } = openStore({ store: o.store, s3Endpoint: o.s3Endpoint });
      if (o.drill && o.scratch.length === 0)
        throw new UsageError('--drill needs --scratch NAME=URL for every component it restores');
      await store.preflight(location.bucket, location.prefix);
      const manifest = await loadManifest(store, location, id);
      const results = await rehashAll(store, location, manifest.components);
      const bad = results.filter((r) => !r.ok);
      if (!o.drill) {
        print(
          o.json,
          { id: manifest.id, ok: bad.length === 0, artifacts: results },
          verifyText(manifest.id, results),
        );
        if (bad.length)
          throw new FailedError(
            `backup ${manifest.id} does not match its manifest`,
            bad.map((b) => b.problem!),
          );
        return;
      }
      log(verifyText(manifest.id, results));
      if (bad.length)
        throw new FailedError(
          `backup ${manifest.id} does not match its manifest`,
          bad.map((b) => b.problem!),
        );
      const stack = loadStack(o.catalog);
      const source = await openTarget(stack, {
        target: o.target,
        endpoints: o.endpoint ?? [],
        kubeconfig: o.kubeconfig,
        context: o.context,
      });
      const scratch = await openTarget(stack, { target: 'local', endpoints: o.scratch }, '--scratch');
      const drill = await runDrill({
        stack,
        manifest,
        components: splitList(o.components),
        source,
        scratch,
        store,
        location,
        log,
      });
      print(o.json, { id: manifest.id, artifacts: results, drill }, drillText(drill));
      if (!drill.ok) throw new FailedError(`restore drill of ${manifest.id} failed`);
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
      const { parseRetention, openStore, prune, pruneText } = await storeLib();
      const text = [
        ['keep-last', o.keepLast],
        ['keep-daily', o.keepDaily],
        ['keep-weekly', o.keepWeekly],
        ['keep-monthly', o.keepMonthly],
        ['grace', o.grace],
      ]
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      if (![o.keepLast, o.keepDaily, o.keepWeekly, o.keepMonthly].some((v) => v !== undefined))
        throw new UsageError(
          'backups prune needs at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly',
        );
      const policy = parseRetention(text, 'backups prune');
      const { store, location } = openStore({ store: o.store, s3Endpoint: o.s3Endpoint });
      await store.preflight(location.bucket, location.prefix);
      const { plan, abortedUploads } = await prune(store, location, policy, { dryRun: Boolean(o.dryRun) });
      print(
        o.json,
        { dryRun: Boolean(o.dryRun), ...plan, abortedUploads },
        pruneText(plan, Boolean(o.dryRun)),
      );
    },
  );
}
