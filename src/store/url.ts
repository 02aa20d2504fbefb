import { UsageError } from '../util/errors.ts';

/** Where backups live: `s3://BUCKET/PREFIX` (prefix without leading or trailing slashes, may be empty). */
export interface StoreLocation {
  bucket: string;
  prefix: string;
}

// S3 bucket naming rules (lowercase, digits, dots, hyphens; 3–63 characters)
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `--store s3://BUCKET/PREFIX`; `flag` names the flag or input in errors (exit 2). */
export function parseStoreUrl(text: string, flag = '--store'): StoreLocation {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must look like s3://BUCKET/PREFIX (got "${text}")`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket))
    throw new UsageError(`${flag}: "${bucket}" is not a valid S3 bucket name (in "${text}")`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..') || /\/\//.test(prefix))
    throw new UsageError(`${flag}: prefix "${prefix}" has an empty, "." or ".." segment`);
  return { bucket, prefix };
}

/** Joins key segments under a prefix: `join('a', 'b/c')` → `a/b/c`; an empty prefix adds nothing. */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export function formatStoreUrl(loc: StoreLocation, key = ''): string {
  return `s3://${loc.bucket}/${joinKey(loc.prefix, key)}`;
}
