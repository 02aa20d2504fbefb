/**
 * Staleness watchdog for the nightly backups: fails (exit 1) when the newest COMPLETE backup in the
 * store is older than `--max-age`, or when there is none. A backup is complete when its
 * `PREFIX/<backup-id>/manifest.json` exists (the manifest is written last), and its age is the
 * manifest's LastModified — so the watchdog needs no knowledge of the manifest's schema.
 *
 *   node scripts/backup-watchdog.ts --store s3://BUCKET/PREFIX --s3-endpoint URL [--max-age 26h]
 *
 * Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Writes a job summary when
 * GITHUB_STEP_SUMMARY is set. Exit codes: 0 fresh, 1 stale or none, 2 usage/configuration error.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parseStoreUrl, type StoreLocation } from '../src/store/url.ts';
import { formatDuration, parseDuration } from '../src/util/duration.ts';
import { errorMessage, exitCodeOf, UsageError } from '../src/util/errors.ts';
import { redactUrl } from '../src/util/redact.ts';

export interface CompleteBackup {
  id: string;
  completedAt: Date;
}

export interface Verdict {
  fresh: boolean;
  newest?: CompleteBackup;
  ageMs?: number;
  message: string;
}

/** The decision, pure: fresh when the newest complete backup is at most `maxAgeMs` old. */
export function judgeStaleness(backups: readonly CompleteBackup[], now: Date, maxAgeMs: number): Verdict {
  const newest = [...backups].sort((a, b) => b.completedAt.getTime() - a.completedAt.getTime())[0];
  const limit = formatDuration(maxAgeMs);
  if (!newest) return { fresh: false, message: `no complete backup in the store (limit ${limit})` };
  const ageMs = now.getTime() - newest.completedAt.getTime();
  const age = formatDuration(Math.max(0, ageMs));
  return ageMs <= maxAgeMs
    ? {
        fresh: true,
        newest,
        ageMs,
        message: `newest complete backup ${newest.id} is ${age} old (limit ${limit})`,
      }
    : {
        fresh: false,
        newest,
        ageMs,
        message: `newest complete backup ${newest.id} is ${age} old, older than ${limit}: backups are stale`,
      };
}

/** The backup id of a `PREFIX/<id>/manifest.json` key, or undefined for any other key. */
export function manifestBackupId(loc: StoreLocation, key: string): string | undefined {
  const base = loc.prefix ? `${loc.prefix}/` : '';
  if (!key.startsWith(base)) return undefined;
  const m = /^([^/]+)\/manifest\.json$/.exec(key.slice(base.length));
  return m?.[1];
}

/** Lists every complete backup (one with a manifest) under the store location. */
export async function listCompleteBackups(client: S3Client, loc: StoreLocation): Promise<CompleteBackup[]> {
  const found: CompleteBackup[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: loc.bucket,
        Prefix: loc.prefix ? `${loc.prefix}/` : undefined,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      const id = o.Key ? manifestBackupId(loc, o.Key) : undefined;
      if (id && o.LastModified) found.push({ id, completedAt: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      's3-endpoint': { type: 'string' },
      'max-age': { type: 'string', default: '26h' },
      region: { type: 'string', default: 'us-east-1' },
    },
  });
  if (!values.store) throw new UsageError('--store s3://BUCKET/PREFIX is required');
  const loc = parseStoreUrl(values.store);
  const maxAgeMs = parseDuration(values['max-age'], '--max-age');
  const endpoint = values['s3-endpoint'] || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    region: values.region,
    forcePathStyle: true,
    ...(endpoint ? { endpoint } : {}),
  });
  let backups: CompleteBackup[];
  try {
    backups = await listCompleteBackups(client, loc);
  } finally {
    client.destroy();
  }
  const verdict = judgeStaleness(backups, new Date(), maxAgeMs);
  const where = `${values.store}${endpoint ? ` at ${redactUrl(endpoint)}` : ''}`;
  (verdict.fresh ? process.stdout : process.stderr).write(`backup-watchdog: ${verdict.message} (${where})\n`);
  if (env.GITHUB_STEP_SUMMARY) {
    const icon = verdict.fresh ? '✅' : '❌';
    appendFileSync(
      env.GITHUB_STEP_SUMMARY,
      `### ${icon} Backup staleness watchdog\n\n${verdict.message} — \`${where}\`\n`,
    );
  }
  if (!verdict.fresh && env.GITHUB_ACTIONS === 'true')
    process.stdout.write(`::error title=Backups are stale::${verdict.message}\n`);
  return verdict.fresh ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`backup-watchdog: ${errorMessage(err)}\n`);
      // An unreachable store is a failed watchdog (1); a bad flag is a usage error (2).
      process.exitCode = exitCodeOf(err) === 2 ? 2 : 1;
    },
  );
}
