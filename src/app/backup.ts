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

import { streamArtifact } from '../backup/pipeline.ts';
import { describeCommand } from '../backup/runner.ts';
import { SOURCES } from '../backup/sources/index.ts';
import type { BackupContext, TargetAccess } from '../backup/types.ts';
import type { Stack } from '../catalog/types.ts';
import type { S3Store } from '../store/s3.ts';
import { formatStoreUrl, type StoreLocation } from '../store/url.ts';
import { errorMessage, UsageError } from '../util/errors.ts';
import { redact } from '../util/redact.ts';
import { VERSION } from '../version.ts';

/**
 * The backups to run: `names` (components) or, when empty, `fallback`. Unknown components and
 * components without backups are usage errors; every backup's parameters are checked up front.
 */
export function selectBackups(
  stack: Stack,
  names: readonly string[],
  fallback: readonly string[],
): SelectedBackup[] {
  const chosen = names.length ? names : fallback;
  const problems: string[] = [];
  const out: SelectedBackup[] = [];
  for (const name of chosen) {
    const c = stack.components[name];
    if (!c) {
      problems.push(`unknown component "${name}"; components with backups: ${withBackups(stack).join(', ')}`);
      continue;
    }
    if (c.backups.length === 0)
      problems.push(
        `component "${name}" has no backups in the catalog; components with backups: ${withBackups(stack).join(', ')}`,
      );
    for (const spec of c.backups) {
      const source = SOURCES.get(spec.type);
      if (!source) {
        problems.push(
          `${stack.file}:${stack.lines[name]}: backup "${spec.name}" of ${name} has unknown type "${spec.type}"; types: ${[...SOURCES.keys()].join(', ')}`,
        );
        continue;
      }
      for (const p of source.validate(spec, c))
        problems.push(
          `${stack.file}:${stack.lines[name]}: backup "${spec.name}" of ${name}: ${p.path.join('.')} ${p.message}`,
        );
      out.push({ component: c, spec });
    }
  }
  if (chosen.length === 0)
    problems.push(
      'no components to back up: name them with --components (or give --endpoint for target local)',
    );
  if (problems.length)
    throw new UsageError(
      problems.length === 1
        ? problems[0]!
        : `invalid backup selection:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  return out;
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
        });
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
      const result = await source.backup(ctx);
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
