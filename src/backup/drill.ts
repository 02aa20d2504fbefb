import type { Stack } from '../catalog/types.ts';
import type { S3Store } from '../store/s3.ts';
import type { StoreLocation } from '../store/url.ts';
import { errorMessage } from '../util/errors.ts';
import type { BackupManifest } from './manifest.ts';
import { runRestore, selectRecords } from './restore.ts';
import { SOURCES } from './sources/index.ts';
import type { TargetAccess } from './types.ts';
import { compareFingerprints } from './verify.ts';

export interface DrillOutcome {
  ok: boolean;
  /** Time to restore into the scratch target (download, verify, load). */
  restoreMs: number;
  components: { component: string; ok: boolean; compared: number; differences: string[]; error?: string }[];
}

/**
 * Restore drill: restores the backup into a scratch target, then compares what the source holds
 * with what was restored (PostgreSQL: per-table row counts in every database; Redis: key counts
 * per database and a sample of keys with their types and values). Run it right after the backup:
 * writes to the source in between show up as differences.
 */
export async function runDrill(opts: {
  stack: Stack;
  manifest: BackupManifest;
  components: readonly string[];
  source: TargetAccess;
  scratch: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  log?: (line: string) => void;
}): Promise<DrillOutcome> {
  const rename = new Map<string, string>();
  for (const record of selectRecords(opts.manifest, opts.components))
    for (const [from, to] of SOURCES.get(record.type)?.drillRenames?.(record) ?? []) rename.set(from, to);
  const restored = await runRestore({
    stack: opts.stack,
    manifest: opts.manifest,
    components: opts.components,
    target: opts.scratch,
    store: opts.store,
    location: opts.location,
    options: { clean: false, rename, noGlobals: false },
    log: opts.log,
  });
  const components: DrillOutcome['components'] = [];
  for (const record of selectRecords(opts.manifest, opts.components)) {
    const r = restored.components.find((c) => c.component === record.component);
    if (!r?.ok) {
      components.push({
        component: record.component,
        ok: false,
        compared: 0,
        differences: [],
        error: r?.error ?? 'not restored',
      });
      continue;
    }
    const source = SOURCES.get(record.type);
    const component = opts.stack.components[record.component]!;
    const spec = component.backups.find((b) => b.name === record.backup)!;
    if (!source?.fingerprint) {
      components.push({ component: record.component, ok: true, compared: 0, differences: [] });
      continue;
    }
    try {
      const args = { component, spec, record };
      const expected = await source.fingerprint({ ...args, rename: new Map(), target: opts.source });
      const actual = await source.fingerprint({ ...args, rename, target: opts.scratch });
      const differences = compareFingerprints(expected, actual);
      components.push({
        component: record.component,
        ok: differences.length === 0,
        compared: expected.size,
        differences,
      });
    } catch (err) {
      components.push({
        component: record.component,
        ok: false,
        compared: 0,
        differences: [],
        error: errorMessage(err),
      });
    }
  }
  return { ok: components.every((c) => c.ok), restoreMs: restored.durationMs, components };
}
