/** The backup store settings shared by backup, restore and backups (S3 or MinIO). */
import { openStore, type StoreOptions } from '../backup/setup.ts';
import { parseStoreUrl } from '../store/url.ts';
import { addSecret } from '../util/redact.ts';
import { httpUrl, invalid, named, type Setting } from './settings.ts';

export interface StoreSettings {
  store: Setting<string | undefined>;
  s3Endpoint: Setting<string | undefined>;
  /** Empty: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  accessKeyId?: Setting<string | undefined>;
  secretAccessKey?: Setting<string | undefined>;
}

export const STORE_FLAGS = { store: '--store', s3Endpoint: '--s3-endpoint' } as const;

/** Checks the store URL and endpoint (no I/O) and returns what openStore takes. */
export function checkStore(s: StoreSettings): StoreOptions {
  if (!s.store.value) throw invalid(s.store, 'is required: the backup store, s3://BUCKET/PREFIX');
  parseStoreUrl(s.store.value, named(s.store));
  const s3Endpoint = httpUrl(s.s3Endpoint);
  for (const secret of [s.accessKeyId?.value, s.secretAccessKey?.value]) if (secret) addSecret(secret);
  return {
    store: s.store.value,
    ...(s3Endpoint ? { s3Endpoint } : {}),
    ...(s.accessKeyId?.value ? { accessKeyId: s.accessKeyId.value } : {}),
    ...(s.secretAccessKey?.value ? { secretAccessKey: s.secretAccessKey.value } : {}),
  };
}

export const connectStore = (o: StoreOptions) => openStore(o);

/** The store opened and its bucket/prefix proven reachable (bounded), before any manifest is read. */
export async function reachStore(s: StoreSettings): Promise<ReturnType<typeof openStore>> {
  const opened = connectStore(checkStore(s));
  await opened.store.preflight(opened.location.bucket, opened.location.prefix);
  return opened;
}
