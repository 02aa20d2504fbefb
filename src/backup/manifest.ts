import type { StoreLocation } from '../store/url.ts';
import { joinKey } from '../store/url.ts';
import { FailedError } from '../util/errors.ts';
import type { Compression } from './compression.ts';

export const MANIFEST_FORMAT = 'kindling.dev/backup-manifest/v1';
export const MANIFEST_NAME = 'manifest.json';
/** Written when a run starts, removed when it ends: tells `backups list` and prune a run is in progress. */
export const IN_PROGRESS_NAME = 'in-progress.json';

/** One stored object a source produced. `bytes` and `sha256` describe the object as stored. */
export interface ArtifactRecord {
  name: string;
  key: string;
  bytes: number;
  /** Bytes the producing command wrote, before compression. */
  rawBytes: number;
  sha256: string;
  compression: Compression;
  /** What the bytes are, e.g. `pg_dump-custom`, `sql`, `rdb`, `etcd-snapshot`, `object-index`. */
  format: string;
  command: string;
  exitCode: number;
  durationMs: number;
  meta?: Record<string, unknown>;
}

export interface ComponentRecord {
  component: string;
  backup: string;
  type: string;
  durationMs: number;
  serverVersion?: string;
  toolVersion?: string;
  artifacts: ArtifactRecord[];
  meta?: Record<string, unknown>;
}

/** The commit marker: written last, only when every component succeeded. No manifest = no backup. */
export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  kindlingVersion: string;
  target: 'local' | 'kube';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  store: StoreLocation;
  compression: Compression;
  components: ComponentRecord[];
}

export const backupPrefix = (loc: StoreLocation, id: string): string => `${joinKey(loc.prefix, id)}/`;
export const manifestKey = (loc: StoreLocation, id: string): string => joinKey(loc.prefix, id, MANIFEST_NAME);
export const inProgressKey = (loc: StoreLocation, id: string): string =>
  joinKey(loc.prefix, id, IN_PROGRESS_NAME);
export const artifactKey = (loc: StoreLocation, id: string, component: string, artifact: string): string =>
  joinKey(loc.prefix, id, component, artifact);

/** Parses a stored manifest, refusing anything that is not one (exit 1: the store's content is wrong). */
export function parseManifest(text: string, where: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FailedError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  const m = value as Partial<BackupManifest>;
  const problems: string[] = [];
  if (m?.format !== MANIFEST_FORMAT) problems.push(`format is not ${MANIFEST_FORMAT}`);
  if (typeof m?.id !== 'string') problems.push('no id');
  if (!Array.isArray(m?.components)) problems.push('no components');
  for (const c of m?.components ?? [])
    for (const a of c.artifacts ?? [])
      if (typeof a.key !== 'string' || !/^[0-9a-f]{64}$/.test(String(a.sha256)) || !Number.isInteger(a.bytes))
        problems.push(`artifact ${c.component}/${a.name}: key, sha256 or bytes missing`);
  if (problems.length) throw new FailedError(`${where} is not a kindling backup manifest`, problems);
  return m as BackupManifest;
}
