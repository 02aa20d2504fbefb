import type { S3Store } from '../store/s3.ts';
import { joinKey, type StoreLocation } from '../store/url.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import { backupIdTime, isBackupId } from './id.ts';
import {
  type BackupManifest,
  IN_PROGRESS_NAME,
  MANIFEST_NAME,
  manifestKey,
  parseManifest,
} from './manifest.ts';

/** What the store holds for one backup id. */
export interface StoredBackup {
  id: string;
  time: Date;
  manifest?: BackupManifest;
  /** The manifest exists but cannot be read: treated as incomplete. */
  manifestProblem?: string;
  inProgressMarker: boolean;
  objects: number;
  bytes: number;
  lastWrite: Date;
  keys: string[];
}

/** Every backup prefix under the store's prefix, newest first, with its manifest when there is one. */
export async function listStoredBackups(store: S3Store, loc: StoreLocation): Promise<StoredBackup[]> {
  const base = loc.prefix ? `${loc.prefix}/` : '';
  const objects = await store.list(loc.bucket, base);
  const byId = new Map<string, StoredBackup>();
  for (const o of objects) {
    const id = o.key.slice(base.length).split('/')[0]!;
    if (!isBackupId(id)) continue;
    const b = byId.get(id) ?? {
      id,
      time: backupIdTime(id)!,
      inProgressMarker: false,
      objects: 0,
      bytes: 0,
      lastWrite: new Date(0),
      keys: [],
    };
    b.objects++;
    b.bytes += o.size;
    b.keys.push(o.key);
    if (o.lastModified > b.lastWrite) b.lastWrite = o.lastModified;
    const rest = o.key.slice(base.length + id.length + 1);
    if (rest === IN_PROGRESS_NAME) b.inProgressMarker = true;
    byId.set(id, b);
  }
  const out = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  for (const b of out) {
    if (!b.keys.includes(joinKey(loc.prefix, b.id, MANIFEST_NAME))) continue;
    const text = await store.getText(loc.bucket, manifestKey(loc, b.id));
    try {
      b.manifest = parseManifest(text ?? '', `s3://${loc.bucket}/${manifestKey(loc, b.id)}`);
      b.time = new Date(b.manifest.startedAt);
    } catch (err) {
      b.manifestProblem = (err as Error).message;
    }
  }
  return out;
}

/** Reads the manifest of `ID` or of the newest complete backup for `latest`. */
export async function loadManifest(
  store: S3Store,
  loc: StoreLocation,
  idOrLatest: string,
): Promise<BackupManifest> {
  if (idOrLatest === 'latest') {
    const newest = (await listStoredBackups(store, loc)).find((b) => b.manifest);
    if (!newest) throw new FailedError(`no complete backup in s3://${loc.bucket}/${loc.prefix}`);
    return newest.manifest!;
  }
  if (!isBackupId(idOrLatest))
    throw new UsageError(
      `"${idOrLatest}" is not a backup id (like 20260114T031502Z-9f3a2c81d4e0) or "latest"`,
    );
  const where = `s3://${loc.bucket}/${manifestKey(loc, idOrLatest)}`;
  const text = await store.getText(loc.bucket, manifestKey(loc, idOrLatest));
  if (text === undefined)
    throw new FailedError(
      `backup ${idOrLatest} has no manifest (${where}): it is incomplete or does not exist`,
    );
  return parseManifest(text, where);
}
