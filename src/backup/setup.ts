import { S3Store, s3Settings } from '../store/s3.ts';
import { parseStoreUrl, type StoreLocation } from '../store/url.ts';
import { parseDuration } from '../util/duration.ts';
import { UsageError } from '../util/errors.ts';
import { listStoredBackups } from './inventory.ts';
import { type PrunePlan, planPrune, policyProblem, type RetentionPolicy } from './retention.ts';

export interface StoreOptions {
  store: string;
  s3Endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
}

export function openStore(o: StoreOptions): { store: S3Store; location: StoreLocation } {
  const location = parseStoreUrl(o.store);
  const store = new S3Store(
    s3Settings({
      endpoint: o.s3Endpoint,
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      region: o.region,
    }),
  );
  return { store, location };
}

/** `keep-last=7,keep-daily=7,keep-weekly=4,keep-monthly=6[,grace=24h]` → a policy (errors name `where`). */
export function parseRetention(text: string, where = 'retention'): RetentionPolicy {
  const policy: RetentionPolicy = { graceMs: 24 * 3_600_000 };
  const keys: Record<string, keyof RetentionPolicy> = {
    'keep-last': 'keepLast',
    'keep-daily': 'keepDaily',
    'keep-weekly': 'keepWeekly',
    'keep-monthly': 'keepMonthly',
  };
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const [k, v] = part.split('=', 2) as [string, string | undefined];
    if (k === 'grace' && v) {
      policy.graceMs = parseDuration(v, `${where} grace`);
      continue;
    }
    const field = keys[k];
    if (!field || v === undefined || !/^\d+$/.test(v))
      throw new UsageError(
        `${where}: "${part}" must be keep-last=N, keep-daily=N, keep-weekly=N, keep-monthly=N or grace=DURATION`,
      );
    (policy as unknown as Record<string, number>)[field] = Number(v);
  }
  const problem = policyProblem(policy);
  if (problem) throw new UsageError(`${where}: "${text}": ${problem}`);
  return policy;
}

/** Plans (and unless `dryRun`, applies) retention over the store's backups; also aborts stale multipart uploads. */
export async function prune(
  store: S3Store,
  location: StoreLocation,
  policy: RetentionPolicy,
  opts: { dryRun: boolean; now?: Date },
): Promise<{ plan: PrunePlan; abortedUploads: number | 'unsupported' }> {
  // every caller parses the policy first; this guards the deleting path itself
  const problem = policyProblem(policy);
  if (problem) throw new UsageError(`retention policy refused: ${problem}`);
  const now = opts.now ?? new Date();
  const backups = await listStoredBackups(store, location);
  const plan = planPrune(
    backups.map((b) => ({
      id: b.id,
      time: b.time,
      complete: Boolean(b.manifest),
      components: b.manifest?.components.map((c) => c.component) ?? [],
      lastWrite: b.lastWrite,
    })),
    policy,
    now,
  );
  if (opts.dryRun) return { plan, abortedUploads: 0 };
  for (const r of plan.remove) {
    const keys = backups.find((b) => b.id === r.id)!.keys;
    // the manifest goes first: a half-deleted backup must never look complete
    const manifest = keys.filter((k) => k.endsWith('/manifest.json'));
    await store.deleteKeys(location.bucket, manifest);
    await store.deleteKeys(
      location.bucket,
      keys.filter((k) => !manifest.includes(k)),
    );
  }
  const abortedUploads = await store.abortStaleUploads(
    location.bucket,
    location.prefix ? `${location.prefix}/` : '',
    new Date(now.getTime() - policy.graceMs),
  );
  return { plan, abortedUploads };
}
