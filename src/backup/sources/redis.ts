/**
 * `type: redis` — an RDB snapshot.
 * Target local: `redis-cli --rdb -` fetches the RDB over the replication protocol and streams it.
 * Target kube: in the pod, `BGSAVE`, poll `INFO persistence` until that save finished ok, then
 * stream the RDB file (BGSAVE renames atomically, so reading it while Redis runs is safe).
 *
 * Restore never uses DEBUG and never restarts Redis:
 * - local: a scratch `redis-server` loads the RDB; keys are copied with DUMP/RESTORE … REPLACE,
 *   keeping TTLs.
 * - kube: in the pod, a scratch `redis-server` on 127.0.0.1 loads the RDB and the live Redis
 *   full-syncs from it (`REPLICAOF`, then `REPLICAOF NO ONE`): binary-safe, TTLs exact, the AOF
 *   rewritten by Redis itself. (Restarting with the file in place does not work when the pod
 *   runs with `appendonly yes`: Redis then loads the AOF and ignores the RDB.)
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BackupSpec, Component } from '../../catalog/types.ts';
import { durationFromEnv, formatDuration } from '../../util/duration.ts';
import { type CommandSpec, capture } from '../runner.ts';
import type { BackupSource, Fingerprint, RestoreContext, TargetAccess } from '../types.ts';
import {
  durationOf,
  durationParam,
  localEndpoint,
  optionalStringParam,
  podOf,
  sleep,
  unknownParams,
} from './common.ts';
import { keyspaceDbs, parseInfo } from './redis-info.ts';

/** ioredis loads only for local restores and drills: a backup does not need it. */
const redisData = () => import('../redis-data.ts');

const SAMPLE = 200;

/** redis-cli in the pod, authenticated from the pod's own environment variable when configured. */
function podCli(
  component: Component,
  spec: BackupSpec,
  args: string[],
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  const port = spec.port === undefined ? [] : ['-p', String(spec.port)];
  const pod = podOf(component, spec);
  const container = typeof spec.container === 'string' ? spec.container : undefined;
  if (typeof spec.passwordEnv === 'string')
    return {
      argv: [
        'sh',
        '-c',
        `[ -n "$${spec.passwordEnv}" ] && export REDISCLI_AUTH="$${spec.passwordEnv}"; exec redis-cli "$@"`, // empty = no password
        'redis-cli',
        ...port,
        ...args,
      ],
      pod,
      container,
      ...extra,
    };
  return { argv: ['redis-cli', ...port, ...args], pod, container, ...extra };
}

function localCli(url: URL, args: string[]): CommandSpec {
  const env: Record<string, string> = {};
  if (url.password) env.REDISCLI_AUTH = decodeURIComponent(url.password);
  const argv = ['redis-cli', '-h', url.hostname.replace(/^\[|\]$/g, ''), '-p', url.port || '6379'];
  if (url.username) argv.push('--user', decodeURIComponent(url.username));
  if (url.protocol === 'rediss:') argv.push('--tls');
  return { argv: [...argv, ...args], env };
}

function cli(target: TargetAccess, component: Component, spec: BackupSpec, args: string[]): CommandSpec {
  return target.kind === 'kube'
    ? podCli(component, spec, args)
    : localCli(localEndpoint(target, component, spec), args);
}

/**
 * Bound of one redis-cli look-up (INFO, BGSAVE, CONFIG GET…): redis-cli 7.0 has no timeout
 * option, and waits forever on a server that accepts the connection and never answers.
 */
export const REDIS_CLI_TIMEOUT_MS = 30_000;

/** `KINDLING_REDIS_TIMEOUT` (a duration such as `1m`), else 30 s; a bad value is a usage error. */
export function redisCliTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return durationFromEnv(env, 'KINDLING_REDIS_TIMEOUT', REDIS_CLI_TIMEOUT_MS, 100);
}

/** How long a BGSAVE, the scratch server's load and the live server's sync may each take: `timeout`. */
const DEFAULT_WAIT_MS = 10 * 60_000;
const waitMs = (spec: BackupSpec) => durationOf(spec, 'timeout', DEFAULT_WAIT_MS);
/** A scratch server that answers nothing and has no live process this long after its start failed to start. */
const SCRATCH_START_GRACE_MS = 5000;

async function run(
  target: TargetAccess,
  cmd: CommandSpec,
  timeoutMs = redisCliTimeoutFromEnv(),
): Promise<string> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const r = await capture(target.runner, cmd, deadline);
  if (deadline.aborted)
    throw new Error(`${cmd.argv.slice(-2).join(' ')}: Redis did not answer within ${timeoutMs / 1000}s`);
  if (r.exitCode !== 0 || /^(ERR|NOAUTH|WRONGPASS|NOPERM)/m.test(r.stdout))
    throw new Error(
      `${cmd.argv
        .filter((a) => !a.includes('REDISCLI_AUTH'))
        .slice(-2)
        .join(' ')} failed (exit ${r.exitCode}): ${(r.stdout + r.stderr).trim().slice(0, 300)}`,
    );
  return r.stdout;
}

/** Decides whether the BGSAVE we started has finished (pure, from two `INFO persistence` snapshots). */
export function bgsaveState(
  before: Map<string, string>,
  now: Map<string, string>,
): 'running' | 'done' | 'failed' {
  if (now.get('rdb_bgsave_in_progress') !== '0') return 'running';
  const advanced =
    now.has('rdb_saves') && before.has('rdb_saves')
      ? Number(now.get('rdb_saves')) > Number(before.get('rdb_saves'))
      : Number(now.get('rdb_last_save_time')) > Number(before.get('rdb_last_save_time'));
  if (!advanced) return 'running';
  return now.get('rdb_last_bgsave_status') === 'ok' ? 'done' : 'failed';
}

const rdbProbe = (head: Buffer) =>
  head.subarray(0, 5).toString('latin1') === 'REDIS'
    ? undefined
    : 'output is not an RDB file (no REDIS header)';

export const redisSource: BackupSource = {
  type: 'redis',

  validate(spec) {
    return [
      ...unknownParams(spec, [
        'pod',
        'container',
        'dataDir',
        'passwordEnv',
        'port',
        'timeout',
        'scratchPort',
      ]),
      ...optionalStringParam(spec, 'dataDir'),
      ...optionalStringParam(spec, 'passwordEnv'),
      ...durationParam(spec, 'timeout'),
    ];
  },

  async backup(ctx) {
    const { target, component, spec } = ctx;
    const toolCmd: CommandSpec =
      target.kind === 'kube' ? podCli(component, spec, ['--version']) : { argv: ['redis-cli', '--version'] };
    const toolVersion = (await run(target, toolCmd)).trim();
    const server = parseInfo(await run(target, cli(target, component, spec, ['INFO', 'server'])));
    const keyspace = keyspaceDbs(await run(target, cli(target, component, spec, ['INFO', 'keyspace'])));
    let command: CommandSpec;
    if (target.kind === 'local') {
      command = cli(target, component, spec, ['--rdb', '-']);
    } else {
      const dataDir = typeof spec.dataDir === 'string' ? spec.dataDir : '/data';
      const dbfilename =
        (await run(target, podCli(component, spec, ['CONFIG', 'GET', 'dbfilename'])))
          .split('\n')[1]
          ?.trim() || 'dump.rdb';
      const before = parseInfo(await run(target, podCli(component, spec, ['INFO', 'persistence'])));
      await run(target, podCli(component, spec, ['BGSAVE', 'SCHEDULE']));
      const wait = waitMs(spec);
      const deadline = Date.now() + wait;
      for (;;) {
        const now = parseInfo(await run(target, podCli(component, spec, ['INFO', 'persistence'])));
        const state = bgsaveState(before, now);
        if (state === 'done') break;
        if (state === 'failed')
          throw new Error('BGSAVE failed (rdb_last_bgsave_status is not ok); see the Redis log');
        if (Date.now() > deadline) throw new Error(`BGSAVE did not finish within ${formatDuration(wait)}`);
        await sleep(200);
      }
      command = {
        argv: ['cat', `${dataDir}/${dbfilename}`],
        pod: podOf(component, spec),
        container: typeof spec.container === 'string' ? spec.container : undefined,
      };
    }
    const artifact = await ctx.artifact('dump.rdb', { command, format: 'rdb', probe: rdbProbe });
    return {
      artifacts: [artifact],
      serverVersion: server.get('redis_version'),
      toolVersion,
      meta: { keysAtStart: Object.fromEntries(keyspace) },
    };
  },

  async preflightRestore(ctx) {
    const keys = keyspaceDbs(
      await run(ctx.target, cli(ctx.target, ctx.component, ctx.spec, ['INFO', 'keyspace'])),
    );
    const total = [...keys.values()].reduce((a, b) => a + b, 0);
    return total > 0 && !ctx.options.clean
      ? [`the target Redis holds ${total} key(s); restore with --clean to replace them`]
      : [];
  },

  async restore(ctx) {
    const artifact = ctx.record.artifacts.find((a) => a.format === 'rdb');
    if (!artifact) throw new Error('the manifest has no RDB artifact');
    return ctx.target.kind === 'local' ? restoreLocal(ctx, artifact) : restoreInPod(ctx, artifact);
  },

  async fingerprint(ctx) {
    const url = ctx.target.kind === 'local' ? localEndpoint(ctx.target, ctx.component, ctx.spec) : undefined;
    if (!url) throw new Error('Redis drills run on target local');
    const { redisClient, connectRedis, canonicalValue } = await redisData();
    const client = redisClient(url);
    await connectRedis(client);
    try {
      const out: Fingerprint = new Map();
      for (const [db, n] of keyspaceDbs(await client.info('keyspace'))) {
        await client.select(db);
        out.set(`db${db} keys`, String(n));
        // the sample is a sorted slice of key names, so both sides pick the same keys
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0' && keys.length < 100_000);
        for (const k of keys.sort().slice(0, SAMPLE))
          out.set(`db${db} ${k}`, await canonicalValue(client, k));
      }
      return out;
    } finally {
      client.disconnect();
    }
  },
};

async function restoreLocal(
  ctx: RestoreContext,
  artifact: import('../manifest.ts').ArtifactRecord,
): Promise<string[]> {
  const { scratchDir, startScratchRedis, redisClient, connectRedis, copyAllKeys } = await redisData();
  const scratch = scratchDir();
  try {
    await pipeline(await ctx.open(artifact), createWriteStream(join(scratch.dir, 'dump.rdb')));
    await ctx.verified(artifact);
    const source = await startScratchRedis(scratch.dir, 'dump.rdb');
    const target = redisClient(localEndpoint(ctx.target, ctx.component, ctx.spec));
    try {
      await connectRedis(target);
      if (ctx.options.clean) await target.flushall();
      const copied = await copyAllKeys(source.client, target);
      const total = [...copied.values()].reduce((a, b) => a + b, 0);
      ctx.log(`restored ${total} key(s) with DUMP/RESTORE`);
      return [];
    } finally {
      target.disconnect();
      await source.stop();
    }
  } finally {
    scratch.remove();
  }
}

async function restoreInPod(
  ctx: RestoreContext,
  artifact: import('../manifest.ts').ArtifactRecord,
): Promise<string[]> {
  const { target, component, spec } = ctx;
  const pod = podOf(component, spec);
  const container = typeof spec.container === 'string' ? spec.container : undefined;
  const dataDir = typeof spec.dataDir === 'string' ? spec.dataDir : '/data';
  const dir = `${dataDir}/kindling-restore-${ctx.manifest.id}`;
  const port = String(spec.scratchPort ?? 16379);
  const sh = (script: string, extra: Partial<CommandSpec> = {}): CommandSpec => ({
    argv: ['sh', '-c', script, 'sh', dir, port],
    pod,
    container,
    ...extra,
  });
  const scratchCli = (args: string[]) => ({ argv: ['redis-cli', '-p', port, ...args], pod, container });
  const bounded = (cmd: CommandSpec) =>
    capture(target.runner, cmd, AbortSignal.timeout(redisCliTimeoutFromEnv()));
  // Daemonized, redis-server writes its pid file (redis.conf, "pidfile"): no live process behind
  // it means the scratch server is gone, and what it logged says why
  const scratchAlive = async () => {
    if ((await bounded(sh('kill -0 "$(cat "$1/scratch.pid" 2>/dev/null)" 2>/dev/null'))).exitCode === 0)
      return;
    const tail = (await bounded(sh('tail -n 5 "$1/scratch.log" 2>/dev/null'))).stdout.trim();
    throw new Error(
      `the scratch redis-server on 127.0.0.1:${port} in ${pod} is not running (scratchPort: ${port}); its log: ${tail.split('\n').join(' | ') || '(empty)'}`,
    );
  };
  const up = await capture(
    target.runner,
    sh('mkdir -p "$1" && cat > "$1/dump.rdb"', { stdin: await ctx.open(artifact) }),
  );
  if (up.exitCode !== 0) throw new Error(`copying the RDB into ${pod} failed: ${up.stderr.trim()}`);
  await ctx.verified(artifact);
  try {
    await run(target, sh('redis-check-rdb "$1/dump.rdb" >/dev/null'));
    await run(
      target,
      sh(
        // one replica, so no reason to wait the default 5 s for more before the full sync
        // (redis.conf, "repl-diskless-sync-delay")
        `redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --dbfilename dump.rdb --save '' --appendonly no --repl-diskless-sync-delay 0 --daemonize yes --pidfile "$1/scratch.pid" --logfile "$1/scratch.log"`,
      ),
    );
    const wait = waitMs(spec);
    const started = Date.now();
    const deadline = started + wait;
    for (;;) {
      const info = await bounded(scratchCli(['INFO', 'persistence']));
      if (info.exitCode === 0 && /^loading:0/m.test(info.stdout)) break;
      // not answering: a server that exited at start (its port taken, the RDB unreadable) would
      // otherwise be waited for until the deadline
      if (info.exitCode !== 0 && Date.now() - started > SCRATCH_START_GRACE_MS) await scratchAlive();
      if (Date.now() > deadline)
        throw new Error(`the scratch redis-server did not load the RDB within ${formatDuration(wait)}`);
      await sleep(200);
    }
    const expected = keyspaceDbs(await run(target, scratchCli(['INFO', 'keyspace'])));
    await run(target, podCli(component, spec, ['REPLICAOF', '127.0.0.1', port]));
    let polls = 0;
    try {
      for (;;) {
        const repl = parseInfo(await run(target, podCli(component, spec, ['INFO', 'replication'])));
        if (repl.get('master_link_status') === 'up' && repl.get('master_sync_in_progress') === '0') break;
        // a link still down: the live server keeps retrying a scratch server that may have died
        if (++polls % 25 === 0) await scratchAlive();
        if (Date.now() > deadline)
          throw new Error(
            `the live Redis did not finish syncing from the scratch server within ${formatDuration(wait)}`,
          );
        await sleep(200);
      }
    } finally {
      await run(target, podCli(component, spec, ['REPLICAOF', 'NO', 'ONE']));
    }
    const got = keyspaceDbs(await run(target, podCli(component, spec, ['INFO', 'keyspace'])));
    const diff = [...new Set([...expected.keys(), ...got.keys()])].filter(
      (db) => expected.get(db) !== got.get(db),
    );
    if (diff.length)
      throw new Error(
        `key counts differ after the restore: ${diff.map((d) => `db${d} ${got.get(d) ?? 0} != ${expected.get(d) ?? 0}`).join(', ')}`,
      );
    return [];
  } finally {
    await bounded(scratchCli(['SHUTDOWN', 'NOSAVE']));
    await bounded(sh('rm -rf "$1"'));
  }
}
