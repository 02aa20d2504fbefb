/** `restore`: every artifact re-hashed against the manifest before the target is touched. */
import { checkStreamingEnv } from '../backup/env-settings.ts';
import { loadManifest } from '../backup/inventory.ts';
import { type RestoreOutcome, runRestore } from '../backup/restore.ts';
import { FailedError } from '../util/errors.ts';
import { loadBackupCatalog } from './backup-catalog.ts';
import { bool, invalid, list, type Setting, speaking } from './settings.ts';
import { reachStore, STORE_FLAGS, type StoreSettings } from './store.ts';
import { checkTarget, openTarget, TARGET_FLAGS, type TargetSettings } from './target.ts';

export interface RestoreSettings extends TargetSettings, StoreSettings {
  catalog: Setting<string>;
  /** A backup id or `latest`. */
  backup: Setting<string | undefined>;
  components: Setting<string | readonly string[] | undefined>;
  /** `SRC=DEST` database renames. */
  database: Setting<readonly string[] | undefined>;
  clean: Setting<string | boolean>;
  /** false: skip PostgreSQL roles and tablespaces. */
  globals: Setting<string | boolean>;
}

export const RESTORE_FLAGS = {
  ...TARGET_FLAGS,
  ...STORE_FLAGS,
  backup: '--backup',
  components: '--components',
  database: '--database',
  clean: '--clean',
  globals: '--no-globals',
} as const;

/** `SRC=DEST` pairs (pure). */
export function renames(s: Setting<readonly string[] | undefined>): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of s.value ?? []) {
    const [from, to] = f.split('=', 2);
    if (!from || !to) throw invalid(s, `"${f}" must be SOURCE=DESTINATION`);
    out.set(from, to);
  }
  return out;
}

export async function restore(
  s: RestoreSettings,
  hooks: { log?: (line: string) => void } = {},
): Promise<{ id: string; outcome: RestoreOutcome; error?: FailedError }> {
  return speaking(s, RESTORE_FLAGS, async () => {
    checkStreamingEnv();
    const stack = loadBackupCatalog(s.catalog);
    if (!s.backup.value) throw invalid(s.backup, 'is required: a backup id or "latest"');
    const options = { clean: bool(s.clean), rename: renames(s.database), noGlobals: !bool(s.globals) };
    checkTarget(stack, s);
    const { store, location } = await reachStore(s);
    const manifest = await loadManifest(store, location, s.backup.value);
    const target = await openTarget(stack, s);
    try {
      const outcome = await runRestore({
        stack,
        manifest,
        components: list(s.components),
        target,
        store,
        location,
        options,
        ...(hooks.log ? { log: hooks.log } : {}),
      });
      const bad = outcome.components.filter((c) => !c.ok).map((c) => `${c.component}: ${c.error}`);
      return {
        id: manifest.id,
        outcome,
        ...(outcome.ok ? {} : { error: new FailedError(`restore of ${manifest.id} failed`, bad) }),
      };
    } finally {
      await target.close();
    }
  });
}
