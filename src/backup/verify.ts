import { createHash } from 'node:crypto';
import type { S3Store } from '../store/s3.ts';
import type { StoreLocation } from '../store/url.ts';
import type { ArtifactRecord, ComponentRecord } from './manifest.ts';

export interface RehashResult {
  component: string;
  artifact: string;
  key: string;
  ok: boolean;
  bytes?: number;
  sha256?: string;
  problem?: string;
}

/** Streams one stored artifact and compares its size and sha256 with the manifest. */
export async function rehash(
  store: S3Store,
  bucket: string,
  component: string,
  a: ArtifactRecord,
): Promise<RehashResult> {
  const base = { component, artifact: a.name, key: a.key };
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of await store.getStream(bucket, a.key)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== a.sha256 || bytes !== a.bytes)
      return {
        ...base,
        ok: false,
        bytes,
        sha256,
        problem: `${a.key}: sha256 ${sha256} (${bytes} bytes) but the manifest says ${a.sha256} (${a.bytes} bytes)`,
      };
    return { ...base, ok: true, bytes, sha256 };
  } catch (err) {
    return { ...base, ok: false, problem: `${a.key}: cannot read it: ${(err as Error).message}` };
  }
}

export async function rehashAll(
  store: S3Store,
  loc: StoreLocation,
  records: readonly ComponentRecord[],
): Promise<RehashResult[]> {
  const out: RehashResult[] = [];
  for (const r of records)
    for (const a of r.artifacts) out.push(await rehash(store, loc.bucket, r.component, a));
  return out;
}

/** Entries of two fingerprints that differ (missing on one side counts), as readable lines. */
export function compareFingerprints(
  expected: Map<string, string>,
  actual: Map<string, string>,
  limit = 20,
): string[] {
  const diffs: string[] = [];
  for (const k of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(k);
    const a = actual.get(k);
    if (e !== a) diffs.push(`${k}: source ${clip(e)}, restored ${clip(a)}`);
  }
  return diffs.length > limit ? [...diffs.slice(0, limit), `… and ${diffs.length - limit} more`] : diffs;
}

const clip = (s: string | undefined) =>
  s === undefined ? '(missing)' : s.length > 60 ? `${s.slice(0, 57)}…` : s;
