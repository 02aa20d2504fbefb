/** Shared helpers for the backup integration tests: run the CLI, read the store back, seed and compare data. */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { psql, type RunningPostgres, type RunningS3 } from '../harness/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** killed after `timeoutMs` (a hang) */
  timedOut: boolean;
}

/** Runs `kindling ARGS` as its own process (Node 24), with S3 credentials and extra env. */
export function kindling(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  s3?: RunningS3,
  timeoutMs = 0,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/kindling.js'), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: s3?.accessKeyId ?? 'S3RVER',
          AWS_SECRET_ACCESS_KEY: s3?.secretAccessKey ?? 'S3RVER',
          AWS_REGION: 'us-east-1',
          KINDLING_DEBUG: '',
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        const timedOut = Boolean(timeoutMs && (err as { killed?: boolean } | null)?.killed);
        resolve({ code, stdout, stderr, timedOut });
      },
    );
  });
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(r.Contents ?? []).map((c) => c.Key!));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function readObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer | string,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: typeof body === 'string' ? Buffer.from(body) : body,
    }),
  );
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A directory to put first on PATH, holding executable stand-ins (`name` → shell script body). */
export function standInBin(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-standin-'));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/** identity / conversation / knowledge with awkward types: unicode, bytea, large rows, arrays, json. */
export function seedPostgres(pg: RunningPostgres): void {
  psql(pg, 'CREATE ROLE app_owner LOGIN');
  for (const db of ['identity', 'conversation', 'knowledge'])
    psql(pg, `CREATE DATABASE ${db} OWNER app_owner`);
  psql(
    pg,
    `CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE, avatar bytea, created timestamptz DEFAULT '2026-01-01T00:00:00Z');` +
      `INSERT INTO users (name, email, avatar) VALUES ('Zoë Ångström', 'zoe@example.org', '\\x00ff10'::bytea), ('李小龙 🐉', 'li@example.cn', decode(repeat('deadbeef', 1000), 'hex')), ('O''Brien "quoted"\ttab', NULL, NULL);` +
      `ALTER TABLE users OWNER TO app_owner;`,
    'identity',
  );
  psql(
    pg,
    `CREATE TABLE messages (id serial PRIMARY KEY, session uuid NOT NULL, body text, meta jsonb, tags text[]);` +
      `INSERT INTO messages (session, body, meta, tags) SELECT md5(i::text)::uuid, 'message ' || i || ' — ✓ ünïcödé', jsonb_build_object('i', i, 'nested', jsonb_build_object('ok', i % 2 = 0)), ARRAY['a', 'b' || i] FROM generate_series(1, 2000) i;` +
      `INSERT INTO messages (session, body) VALUES (gen_random_uuid(), repeat('large row ', 300000));`,
    'conversation',
  );
  psql(
    pg,
    `CREATE SCHEMA kb; CREATE TABLE kb.documents (id int PRIMARY KEY, title text, content bytea, score numeric(12,6), embedding real[]);` +
      `INSERT INTO kb.documents SELECT i, 'doc ' || i, convert_to(repeat('x', i * 10), 'UTF8'), i / 7.0, ARRAY[i * 0.5, -i * 1.25]::real[] FROM generate_series(1, 500) i;` +
      `INSERT INTO kb.documents VALUES (100000, 'big binary', decode(repeat('0123456789abcdef', 200000), 'hex'), 1e6 / 3, '{}');` +
      `CREATE VIEW kb.titles AS SELECT id, title FROM kb.documents; CREATE INDEX ON kb.documents (title);`,
    'knowledge',
  );
}

/** `pg_dump` of a database, without lines that differ between runs (\restrict keys). */
export function plainDump(pg: RunningPostgres, db: string): string {
  const out = execFileSync(
    'pg_dump',
    ['-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', '--no-sync', db],
    {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    },
  ) as string;
  return out
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

/** Keys of every type, some with TTLs, some binary, in two databases. */
export async function seedRedis(url: string): Promise<void> {
  const r = new Redis(url);
  await r.set('string:plain', 'hello');
  await r.set('string:unicode', 'ünïcödé ✓ 🐉');
  await r.set(Buffer.from([0xff, 0x00, 0x01]), Buffer.from([0x00, 0xfe, 0x80]));
  await r.set('string:ttl', 'expires', 'EX', 3600);
  await r.set('string:big', 'x'.repeat(1 << 20));
  await r.rpush('list:a', 'one', 'two', 'three', 'two');
  await r.sadd('set:a', 'x', 'y', 'z');
  await r.sadd('set:ints', 1, 2, 3, 42);
  await r.zadd('zset:a', 1, 'one', 2.5, 'two-and-half', -3, 'minus');
  await r.hset('hash:a', { f1: 'v1', f2: 'v2', ü: 'ö' });
  await r.hset('hash:ttl', { a: '1' });
  await r.pexpire('hash:ttl', 7_200_000);
  await r.xadd('stream:a', '1-1', 'field', 'value');
  await r.xadd('stream:a', '2-1', 'field', 'value2', 'other', 'x');
  await r.pfadd('hll:a', 'a', 'b', 'c');
  await r.setbit('bitmap:a', 100, 1);
  for (let i = 0; i < 500; i++) await r.set(`bulk:${i}`, `value-${i}`);
  await r.select(3);
  await r.set('db3:key', 'in database 3', 'PX', 5_000_000);
  await r.lpush('db3:list', 'q');
  r.disconnect();
}

/** Every key of every database with type, canonical value and TTL (ms, rounded to 10 s for clock drift). */
export async function redisSnapshot(url: string): Promise<Record<string, string>> {
  const { canonicalValue } = await import('../../src/backup/redis-data.ts');
  const r = new Redis(url);
  const out: Record<string, string> = {};
  const info = await r.info('keyspace');
  for (const m of info.matchAll(/^db(\d+):/gm)) {
    const db = Number(m[1]);
    await r.select(db);
    const keys = (await r.keysBuffer('*')).sort(Buffer.compare);
    for (const k of keys) {
      const ttl = await r.pttl(k);
      out[`db${db}:${k.toString('hex')}`] =
        `${await canonicalValue(r, k)} ttl=${ttl < 0 ? ttl : Math.round(ttl / 10_000)}`;
    }
  }
  r.disconnect();
  return out;
}
