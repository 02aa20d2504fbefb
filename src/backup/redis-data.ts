import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { keyspaceDbs } from './sources/redis-info.ts';

/**
 * Bounds for a Redis server that accepts the connection and never answers: ioredis' own
 * `connectTimeout` ends at the TCP connect (redis/ioredis `lib/Redis.ts`), so without
 * `commandTimeout` the ready check and every command would wait forever.
 */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;
export const REDIS_COMMAND_TIMEOUT_MS = 30_000;

/** A Redis connection from a `redis://` / `rediss://` URL, failing fast instead of retrying forever. */
export function redisClient(
  url: URL | { path: string },
  db = 0,
  commandTimeout = REDIS_COMMAND_TIMEOUT_MS,
): Redis {
  const opts = {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    db,
    retryStrategy: () => null,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout,
  };
  const client =
    'path' in url && !(url instanceof URL)
      ? new Redis({ path: url.path, ...opts })
      : new Redis({
          host: (url as URL).hostname.replace(/^\[|\]$/g, ''),
          port: Number((url as URL).port || 6379),
          username: decodeURIComponent((url as URL).username) || undefined,
          password: decodeURIComponent((url as URL).password) || undefined,
          tls: (url as URL).protocol === 'rediss:' ? {} : undefined,
          ...opts,
        });
  // failures reach the caller through the rejected command; without a listener ioredis prints a stack
  client.on('error', () => {});
  return client;
}

/** Connects, or fails naming the server (without credentials) and the bound it waited. */
export async function connectRedis(client: Redis): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    const o = client.options;
    const where = o.path ?? `${o.host}:${o.port}`;
    throw new Error(
      `Redis at ${where} did not become ready (connect bound ${REDIS_CONNECT_TIMEOUT_MS / 1000}s, command bound ${(o.commandTimeout ?? 0) / 1000}s): ${(err as Error).message}`,
    );
  }
}

/** Databases that hold keys, from `INFO keyspace` (`db0:keys=3,expires=1,...`). */
export async function totalKeys(client: Redis): Promise<Map<number, number>> {
  return keyspaceDbs(await client.info('keyspace'));
}

/**
 * Copies every key of every database from `from` to `to` with DUMP/RESTORE … REPLACE, keeping
 * each key's remaining TTL. No DEBUG, no restart. Returns the keys copied per database.
 */
export async function copyAllKeys(from: Redis, to: Redis): Promise<Map<number, number>> {
  const copied = new Map<number, number>();
  for (const db of (await totalKeys(from)).keys()) {
    await from.select(db);
    await to.select(db);
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = (await from.callBuffer('SCAN', cursor, 'COUNT', '1000')) as [Buffer, Buffer[]];
      cursor = next.toString();
      if (keys.length === 0) continue;
      const read = from.pipeline();
      for (const k of keys) read.pttl(k).dumpBuffer(k);
      const res = (await read.exec()) ?? [];
      const write = to.pipeline();
      keys.forEach((k, i) => {
        const [e1, ttl] = res[2 * i]!;
        const [e2, payload] = res[2 * i + 1]!;
        if (e1 || e2) throw e1 ?? e2;
        if (payload === null || (ttl as number) === -2) return; // expired since the scan
        write.restore(k, Math.max(0, ttl as number), payload as Buffer, 'REPLACE');
        n++;
      });
      for (const [err] of (await write.exec()) ?? []) if (err) throw err;
    } while (cursor !== '0');
    copied.set(db, n);
  }
  await from.select(0);
  await to.select(0);
  return copied;
}

/** A key's type and value in a canonical, comparable text (order-free collections sorted). */
export async function canonicalValue(client: Redis, key: Buffer | string): Promise<string> {
  const type = await client.type(key);
  const hex = (b: Buffer) => b.toString('hex');
  const call = (...args: (string | Buffer)[]) =>
    client.callBuffer(args[0] as string, ...args.slice(1)) as Promise<unknown>;
  let value: unknown;
  if (type === 'string') value = hex((await client.getBuffer(key))!);
  else if (type === 'list') value = ((await call('LRANGE', key, '0', '-1')) as Buffer[]).map(hex);
  else if (type === 'set') value = ((await call('SMEMBERS', key)) as Buffer[]).map(hex).sort();
  else if (type === 'zset')
    value = ((await call('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[]).map(hex);
  else if (type === 'hash') {
    const flat = ((await call('HGETALL', key)) as Buffer[]).map(hex);
    const pairs: string[] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
    value = pairs.sort();
  } else if (type === 'stream') value = JSON.stringify(await client.xrange(key, '-', '+'));
  else value = '?';
  return `${type}:${JSON.stringify(value)}`;
}

export interface ScratchRedis {
  client: Redis;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` on a unix socket (no TCP port) that loads `rdbFile`'s
 * directory/name, waits until it has loaded, and returns a client. Used to read an RDB key by key.
 */
export async function startScratchRedis(
  dir: string,
  dbfilename: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ScratchRedis> {
  const sock = join(dir, 'scratch.sock');
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      sock,
      '--dir',
      dir,
      '--dbfilename',
      dbfilename,
      '--save',
      '',
      '--appendonly',
      'no',
      '--databases',
      '256',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `scratch redis-server could not load the snapshot: ${log.trim().split('\n').slice(-3).join(' | ')}`,
      );
    const client = redisClient({ path: sock });
    client.on('error', () => {}); // not listening yet: retried below
    try {
      await client.connect();
      const persistence = await client.info('persistence');
      if (/^loading:0/m.test(persistence))
        return {
          client,
          stop: async () => {
            client.disconnect();
            await stop();
          },
        };
    } catch {
      // not up yet
    }
    client.disconnect();
    if (Date.now() > deadline) {
      await stop();
      throw new Error('scratch redis-server did not load the snapshot within 2m');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-restore-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
