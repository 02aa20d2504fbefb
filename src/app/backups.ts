/** `backups list | verify | prune`: what is in the store, re-hashed, drilled, pruned. */
import { type DrillOutcome, runDrill } from '../backup/drill.ts';
import { listStoredBackups, loadManifest, type StoredBackup } from '../backup/inventory.ts';
import { hasKeepRule, type PrunePlan } from '../backup/retention.ts';
import { parseRetention, prune as pruneStore } from '../backup/setup.ts';
import { type RehashResult, rehashAll } from '../backup/verify.ts';
import { FailedError } from '../util/errors.ts';
import { loadBackupCatalog } from './backup-catalog.ts';
import { bool, duration, fromFlag, invalid, list, named, type Setting, speaking } from './settings.ts';
import { reachStore, STORE_FLAGS, type StoreSettings } from './store.ts';
import { checkTarget, openTarget, TARGET_FLAGS, type TargetSettings } from './target.ts';

const FLAGS = {
  ...STORE_FLAGS,
  ...TARGET_FLAGS,
  scratch: '--scratch',
  components: '--components',
  grace: '--grace',
} as const;

export async function listBackups(
  s: StoreSettings & { grace: Setting<string> },
): Promise<{ backups: StoredBackup[]; graceMs: number }> {
  return speaking(s, FLAGS, async () => {
    const graceMs = duration(s.grace);
    const { store, location } = await reachStore(s);
    return { backups: await listStoredBackups(store, location), graceMs };
  });
}

export interface VerifyBackupSettings extends StoreSettings, TargetSettings {
  catalog: Setting<string>;
  id: Setting<string>;
  drill: Setting<string | boolean>;
  scratch: Setting<readonly string[] | undefined>;
  components: Setting<string | readonly string[] | undefined>;
}

export interface VerifyBackupOutcome {
  id: string;
  artifacts: RehashResult[];
  drill?: DrillOutcome;
  error?: FailedError;
}

/** Re-hash every artifact against the manifest; with drill, restore into scratch and compare. */
export async function verifyBackup(
  s: VerifyBackupSettings,
  hooks: { log?: (line: string) => void } = {},
): Promise<VerifyBackupOutcome> {
  return speaking(s, FLAGS, async () => {
    const drill = bool(s.drill);
    const scratchList = list(s.scratch);
    if (drill && scratchList.length === 0)
      throw invalid(s.drill, `needs ${named(s.scratch)} NAME=URL for every component it restores`);
    const stack = drill ? loadBackupCatalog(s.catalog) : undefined;
    const scratchSettings = {
      target: fromFlag('--target', 'local'),
      endpoints: s.scratch,
      kubeconfig: fromFlag('--kubeconfig', undefined),
      context: fromFlag('--context', undefined),
    };
    if (stack) {
      checkTarget(stack, s);
      checkTarget(stack, scratchSettings);
    }
    const { store, location } = await reachStore(s);
    const manifest = await loadManifest(store, location, s.id.value);
    const artifacts = await rehashAll(store, location, manifest.components);
    const bad = artifacts.filter((r) => !r.ok);
    const mismatch = () =>
      new FailedError(
        `backup ${manifest.id} does not match its manifest`,
        bad.map((b) => b.problem!),
      );
    if (bad.length || !stack)
      return { id: manifest.id, artifacts, ...(bad.length ? { error: mismatch() } : {}) };
    const source = await openTarget(stack, s);
    const scratch = await openTarget(stack, scratchSettings);
    try {
      const d = await runDrill({
        stack,
        manifest,
        components: list(s.components),
        source,
        scratch,
        store,
        location,
        ...(hooks.log ? { log: hooks.log } : {}),
      });
      return {
        id: manifest.id,
        artifacts,
        drill: d,
        ...(d.ok ? {} : { error: new FailedError(`restore drill of ${manifest.id} failed`) }),
      };
    } finally {
      await Promise.all([source.close(), scratch.close()]);
    }
  });
}

export interface PruneSettings extends StoreSettings {
  keepLast: Setting<string | undefined>;
  keepDaily: Setting<string | undefined>;
  keepWeekly: Setting<string | undefined>;
  keepMonthly: Setting<string | undefined>;
  grace: Setting<string>;
  dryRun: Setting<string | boolean>;
}

export async function pruneBackups(
  s: PruneSettings,
): Promise<{ dryRun: boolean; plan: PrunePlan; abortedUploads: number | 'unsupported' }> {
  return speaking(s, FLAGS, async () => {
    const rules: [string, Setting<string | undefined>][] = [
      ['keep-last', s.keepLast],
      ['keep-daily', s.keepDaily],
      ['keep-weekly', s.keepWeekly],
      ['keep-monthly', s.keepMonthly],
    ];
    const text = [...rules, ['grace', s.grace] as const]
      .filter(([, v]) => v.value !== undefined && v.value !== '')
      .map(([k, v]) => `${k}=${v.value}`)
      .join(',');
    duration(s.grace);
    const policy = parseRetention(text, 'backups prune');
    if (!hasKeepRule(policy))
      throw invalid(
        s.keepLast,
        `backups prune needs at least one of ${rules.map(([, v]) => named(v)).join(', ')}`,
      );
    const dryRun = bool(s.dryRun);
    const { store, location } = await reachStore(s);
    return { dryRun, ...(await pruneStore(store, location, policy, { dryRun })) };
  });
}
