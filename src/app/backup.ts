import { type Compression, compressionSuffix } from '../backup/compression.ts';
import { newBackupId } from '../backup/id.ts';
import {
  type ArtifactRecord,
  artifactKey,
  type BackupManifest,
  inProgressKey,
  MANIFEST_FORMAT,
  manifestKey,
} from '../backup/manifest.ts';
import type { BackupOutcome, ComponentOutcome, SelectedBackup } from '../backup/outcome.ts';

export type { BackupOutcome, ComponentOutcome, SelectedBackup };

import { COMPRESSIONS } from '../backup/compression.ts';
import type { DrillOutcome } from '../backup/drill.ts';
import { checkStreamingEnv } from '../backup/env-settings.ts';
import { streamArtifact } from '../backup/pipeline.ts';
import { progressIntervalFromEnv, progressTicker } from '../backup/progress.ts';
import { pruneText } from '../backup/report.ts';
import { hasKeepRule, type PrunePlan } from '../backup/retention.ts';
import { describeCommand } from '../backup/runner.ts';
import { parseRetention, prune } from '../backup/setup.ts';
import { SOURCES } from '../backup/sources/index.ts';
import type { BackupContext, TargetAccess } from '../backup/types.ts';
import type { Stack } from '../catalog/types.ts';
import type { S3Store } from '../store/s3.ts';
import { formatStoreUrl, type StoreLocation } from '../store/url.ts';
import { errorMessage, FailedError, UsageError } from '../util/errors.ts';
import { redact } from '../util/redact.ts';
import { VERSION } from '../version.ts';
import { componentBackupProblems, loadBackupCatalog } from './backup-catalog.ts';
import { bool, choice, fromFlag, invalid, list, named, type Setting, speaking } from './settings.ts';
import { checkStore, connectStore, STORE_FLAGS, type StoreSettings } from './store.ts';
import { checkTarget, openTarget, TARGET_FLAGS, type TargetSettings, targetKind } from './target.ts';

/** The backups of a run, and the named components that have none (reported, not an error). */
export interface BackupPlan {
  selected: SelectedBackup[];
  notApplicable: string[];
}

/**
 * The backups to run: `names` (components) or, when empty, `fallback`. A named component without
 * backups is listed as not applicable (a deploy passes every component it deployed); an unknown
 * one is a usage error, and so is a selection where nothing has a backup. Every backup's
 * parameters are checked up front (pure).
 */
export function planBackups(stack: Stack, names: readonly string[], fallback: readonly string[]): BackupPlan {
  const chosen = names.length ? names : fallback;
  const problems: string[] = [];
  const out: SelectedBackup[] = [];
  const notApplicable: string[] = [];
  for (const name of chosen) {
    const c = Object.hasOwn(stack.components, name) ? stack.components[name] : undefined;
    if (!c) {
      problems.push(`unknown component "${name}"; components with backups: ${withBackups(stack).join(', ')}`);
      continue;
    }
    if (c.backups.length === 0) notApplicable.push(name);
    for (const p of componentBackupProblems(stack, c)) problems.push(`${p.file}:${p.line}: ${p.message}`);
    for (const spec of c.backups) if (SOURCES.has(spec.type)) out.push({ component: c, spec });
  }
  if (chosen.length === 0)
    problems.push(
      'no components to back up: name them with --components (or give --endpoint for target local)',
    );
  else if (out.length === 0 && problems.length === 0)
    problems.push(
      `none of ${chosen.join(', ')} has a backup in the catalog; components with backups: ${withBackups(stack).join(', ')}`,
    );
  if (problems.length)
    throw new UsageError(
      problems.length === 1
        ? problems[0]!
        : `invalid backup selection:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  return { selected: out, notApplicable };
}

/** The selected backups only (see planBackups). */
export function selectBackups(
  stack: Stack,
  names: readonly string[],
  fallback: readonly string[],
): SelectedBackup[] {
  return planBackups(stack, names, fallback).selected;
}

export const withBackups = (stack: Stack): string[] =>
  Object.values(stack.components)
    .filter((c) => c.backups.length)
    .map((c) => c.name);

export interface RunBackupOptions {
  selected: SelectedBackup[];
  target: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  compression: Compression;
  log?: (line: string) => void;
  now?: () => Date;
  /** Called with the id once the run has started in the store (set even when it then fails). */
  onStarted?: (id: string) => void;
  /** Wraps each component's backup (an action's log group, so its progress lines stay together). */
  group?: <T>(title: string, work: () => Promise<T>) => Promise<T>;
}

/**
 * Runs every selected backup, one after another, into `PREFIX/<id>/…`, then — only if every one
 * succeeded — writes `PREFIX/<id>/manifest.json` last. A failing component does not stop the
 * others; it leaves the run without a manifest (not a backup; prune removes its objects later).
 */
export async function runBackup(opts: RunBackupOptions): Promise<BackupOutcome> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const started = now();
  const t0 = Date.now();
  await opts.store.preflight(opts.location.bucket, opts.location.prefix);
  const id = newBackupId(started);
  const { store, location } = opts;
  await store.putText(
    location.bucket,
    inProgressKey(location, id),
    JSON.stringify({ id, startedAt: started.toISOString(), kindlingVersion: VERSION }),
  );
  opts.onStarted?.(id);
  const components: ComponentOutcome[] = [];
  const multi = new Map<string, number>();
  for (const s of opts.selected) multi.set(s.component.name, (multi.get(s.component.name) ?? 0) + 1);

  for (const { component, spec } of opts.selected) {
    const source = SOURCES.get(spec.type)!;
    const c0 = Date.now();
    const prefix = (multi.get(component.name) ?? 0) > 1 ? `${spec.name}.` : '';
    const ctx: BackupContext = {
      component,
      spec,
      target: opts.target,
      store,
      location,
      backupId: id,
      compression: opts.compression,
      keyFor: (name) => artifactKey(location, id, component.name, `${prefix}${name}`),
      log: (line) => log(`${component.name}: ${line}`),
      artifact: async (name, a) => {
        const compression = a.compression ?? opts.compression;
        const fileName = `${prefix}${name}${compressionSuffix(compression)}`;
        const key = artifactKey(location, id, component.name, fileName);
        const label = a.command ? describeCommand(a.command) : (a.description ?? name);
        const command = a.command;
        const ticker = progressTicker({
          label: `${component.name}: ${fileName}`,
          log,
          intervalMs: progressIntervalFromEnv(),
        });
        const r = await streamArtifact({
          store,
          bucket: location.bucket,
          key,
          compression,
          label,
          probe: a.probe,
          produce: command
            ? (stdout, signal) => opts.target.runner.run({ ...command, stdout }, signal)
            : (stdout, signal) => a.produce!(stdout, signal),
          onBytes: (n) => ticker.set(n),
        }).finally(() => ticker.stop());
        log(`${component.name}: stored ${fileName} (${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}…)`);
        const record: ArtifactRecord = {
          name: fileName,
          key,
          bytes: r.bytes,
          rawBytes: r.rawBytes,
          sha256: r.sha256,
          compression,
          format: a.format,
          command: label,
          exitCode: r.exitCode,
          durationMs: r.durationMs,
        };
        if (a.meta) record.meta = a.meta;
        return record;
      },
    };
    try {
      log(`${component.name}: backing up "${spec.name}" (${spec.type})`);
      const title = `${component.name}: ${spec.name} (${spec.type})`;
      const result = await (opts.group ? opts.group(title, () => source.backup(ctx)) : source.backup(ctx));
      const durationMs = Date.now() - c0;
      components.push({
        component: component.name,
        backup: spec.name,
        type: spec.type,
        ok: true,
        durationMs,
        record: { component: component.name, backup: spec.name, type: spec.type, durationMs, ...result },
      });
    } catch (err) {
      const message = redact(errorMessage(err));
      log(`${component.name}: FAILED: ${message}`);
      components.push({
        component: component.name,
        backup: spec.name,
        type: spec.type,
        ok: false,
        durationMs: Date.now() - c0,
        error: message,
      });
    }
  }

  const ok = components.every((c) => c.ok);
  let manifestUri: string | undefined;
  if (ok) {
    const finished = now();
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      id,
      kindlingVersion: VERSION,
      target: opts.target.kind,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: Date.now() - t0,
      store: location,
      compression: opts.compression,
      components: components.map((c) => c.record!),
    };
    await store.putText(location.bucket, manifestKey(location, id), `${JSON.stringify(manifest, null, 2)}\n`);
    manifestUri = formatStoreUrl(location, `${id}/manifest.json`);
  }
  await store.deleteKeys(location.bucket, [inProgressKey(location, id)]).catch(() => {});
  return { id, ok, manifestUri, durationMs: Date.now() - t0, components };
}

export interface BackupSettings extends TargetSettings, StoreSettings {
  catalog: Setting<string>;
  /** Components; empty: every component with a backup (on local, those with an endpoint). */
  components: Setting<string | readonly string[] | undefined>;
  compression: Setting<string>;
  /** `keep-last=7,…`: prune after a successful backup. */
  retention: Setting<string | undefined>;
  /** Restore into `scratch` (target local) and compare with the source. */
  drill?: Setting<string | boolean>;
  scratch?: Setting<string | readonly string[] | undefined>;
}

export const BACKUP_FLAGS = {
  ...TARGET_FLAGS,
  ...STORE_FLAGS,
  components: '--components',
  compression: '--compression',
  retention: '--retention',
  drill: '--drill',
  scratch: '--scratch',
} as const;

export interface BackupRun {
  /** Set once the run started in the store, also when it then failed. */
  id?: string;
  outcome?: BackupOutcome;
  notApplicable: string[];
  drill?: DrillOutcome;
  pruned?: PrunePlan;
  /** Every problem; empty on success. */
  problems: string[];
  /** The failure (FailedError, or UsageError for a bad setting), when not ok. */
  error?: Error;
}

/**
 * `backup`: settings checked → target and store opened → backups → optional drill → retention.
 * Never throws: any failure, early ones included (store unreachable, no cluster), comes back as
 * `error`, so a face can still publish outputs, a summary and the failure issue.
 */
export async function backup(
  s: BackupSettings,
  hooks: Pick<RunBackupOptions, 'log' | 'group'> = {},
): Promise<BackupRun> {
  const run: BackupRun = { notApplicable: [], problems: [] };
  const log = hooks.log ?? (() => {});
  try {
    await speaking(s, BACKUP_FLAGS, async () => {
      checkStreamingEnv();
      const stack = loadBackupCatalog(s.catalog);
      const compression = choice(s.compression, COMPRESSIONS, 'zstd');
      const policy = s.retention.value ? parseRetention(s.retention.value, named(s.retention)) : undefined;
      const drill = s.drill ? bool(s.drill) : false;
      const kind = targetKind(s);
      const endpoints = checkTarget(stack, s);
      if (drill && (kind !== 'local' || !s.scratch || list(s.scratch).length === 0))
        throw invalid(s.drill!, 'needs target local and a scratch endpoint per component');
      const fallback =
        kind === 'local'
          ? [...new Set([...endpoints.keys()].map((k) => k.split('.')[0]!))].filter((c) =>
              withBackups(stack).includes(c),
            )
          : withBackups(stack);
      const { selected, notApplicable } = planBackups(stack, list(s.components), fallback);
      run.notApplicable = notApplicable;
      const { store, location } = connectStore(checkStore(s));
      const scratchSettings = s.scratch
        ? {
            ...s,
            target: fromFlag('--target', 'local'),
            endpoints: s.scratch,
            kubeconfig: fromFlag('--kubeconfig', undefined),
          }
        : undefined;
      if (drill && scratchSettings) checkTarget(stack, scratchSettings);
      const target = await openTarget(stack, s);
      try {
        for (const n of notApplicable) log(`${n}: not applicable (no backups in the catalog)`);
        run.outcome = await runBackup({
          selected,
          target,
          store,
          location,
          compression,
          log,
          ...(hooks.group ? { group: hooks.group } : {}),
          onStarted: (id) => {
            run.id = id;
          },
        });
        run.problems.push(
          ...run.outcome.components.filter((c) => !c.ok).map((c) => `${c.component}: ${c.error}`),
        );
        if (run.outcome.ok && drill && scratchSettings) {
          // loaded only for a drill: a plain backup does not pay for the restore code
          const [{ loadManifest }, { runDrill }, { drillText }] = await Promise.all([
            import('../backup/inventory.ts'),
            import('../backup/drill.ts'),
            import('../backup/report.ts'),
          ]);
          const manifest = await loadManifest(store, location, run.outcome.id);
          const scratch = await openTarget(stack, scratchSettings);
          run.drill = await runDrill({
            stack,
            manifest,
            components: [],
            source: target,
            scratch,
            store,
            location,
            log,
          });
          if (!run.drill.ok) run.problems.push(`restore drill failed: ${drillText(run.drill)}`);
        }
        if (run.outcome.ok && policy && hasKeepRule(policy)) {
          run.pruned = (await prune(store, location, policy, { dryRun: false })).plan;
          log(pruneText(run.pruned, false));
        }
      } finally {
        await target.close();
      }
    });
  } catch (err) {
    run.problems.push(redact(errorMessage(err)));
    run.error = err instanceof Error ? err : new Error(String(err));
    return run;
  }
  if (run.problems.length) {
    const head = run.id ? `backup ${run.id} failed` : 'backup failed';
    const noManifest = run.outcome && !run.outcome.manifestUri ? '; no manifest was written' : '';
    run.error = new FailedError(`${head}${noManifest}`, run.problems);
  }
  return run;
}
