import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
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
  /** The spool file holding a verified copy. */
  spooled?: string;
  /** Why the copy could not be spooled (the artifact is then downloaded again). */
  spoolError?: string;
}

/**
 * Streams one stored artifact and compares its size and sha256 with the manifest; with `spoolFile`,
 * also writes the bytes to that new file (0600), so that a restore can read them from there.
 */
export async function rehash(
  store: S3Store,
  bucket: string,
  component: string,
  a: ArtifactRecord,
  spoolFile?: string,
): Promise<RehashResult> {
  const base = { component, artifact: a.name, key: a.key };
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    const body = await store.getStream(bucket, a.key);
    // Spool writes are synchronous (page cache; only the sources' read-only preflight runs beside
    // the verify pass, src/backup/restore.ts): each chunk then dies young. Queued for an async write, chunks outlived scavenges and the bench's
    // restore ran 26–37 full GCs instead of 15–16.
    // A spool that fails (disk full) is given up, not the restore: that artifact is downloaded again.
    let fd = spoolFile ? openSync(spoolFile, 'wx', 0o600) : undefined;
    let spoolError: string | undefined;
    try {
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        if (fd === undefined) continue;
        try {
          writeAll(fd, chunk as Buffer);
        } catch (err) {
          spoolError = (err as Error).message;
          closeSync(fd);
          fd = undefined;
        }
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
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
    return {
      ...base,
      ok: true,
      bytes,
      sha256,
      ...(spoolFile ? (spoolError ? { spoolError } : { spooled: spoolFile }) : {}),
    };
  } catch (err) {
    return { ...base, ok: false, problem: `${a.key}: cannot read it: ${(err as Error).message}` };
  }
}

/** Re-hashes every artifact of `records` in turn; `spoolFile(i)` names the i-th one's spool file. */
function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
}

export async function rehashAll(
  store: S3Store,
  loc: StoreLocation,
  records: readonly ComponentRecord[],
  spoolFile?: (i: number) => string,
): Promise<RehashResult[]> {
  const out: RehashResult[] = [];
  for (const r of records)
    for (const a of r.artifacts)
      out.push(await rehash(store, loc.bucket, r.component, a, spoolFile?.(out.length)));
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
