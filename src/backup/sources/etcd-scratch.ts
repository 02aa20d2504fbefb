/**
 * A snapshot file brought back to life on this machine: `etcdutl snapshot restore` (etcd 3.5+;
 * `etcdctl snapshot restore` on 3.4, where etcdutl does not exist yet) into a new data directory,
 * then a throwaway `etcd` on it, on free loopback ports, for as long as `use` runs. The restore
 * tool checks the sha256 the snapshot ends with (etcd-io/etcd `etcdutl/snapshot/v3_snapshot.go`
 * "hasHash"), so a damaged snapshot fails here, not in the target.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, localRunner } from '../runner.ts';
import { sleep } from './common.ts';
import { EtcdGateway } from './etcd-api.ts';

const NAME = 'kindling-scratch';

/** Which tool restores snapshots here: etcdutl when present, else etcdctl (v3 API); undefined = neither. */
export async function restoreTool(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ argv: string[]; env: Record<string, string> } | undefined> {
  const runner = localRunner(env);
  if ((await capture(runner, { argv: ['etcdutl', 'version'] })).exitCode === 0)
    return { argv: ['etcdutl'], env: {} };
  if ((await capture(runner, { argv: ['etcdctl', 'version'], env: { ETCDCTL_API: '3' } })).exitCode === 0)
    return { argv: ['etcdctl'], env: { ETCDCTL_API: '3' } };
  return undefined;
}

/** What this machine lacks to restore etcd snapshots (empty = nothing). */
export async function missingTools(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const problems: string[] = [];
  if (!(await restoreTool(env)))
    problems.push('restoring an etcd snapshot needs etcdutl (etcd 3.5+) or etcdctl 3.4 on this machine');
  if ((await capture(localRunner(env), { argv: ['etcd', '--version'] })).exitCode !== 0)
    problems.push(
      'restoring an etcd snapshot needs the etcd binary on this machine (to open the restored data)',
    );
  return problems;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  return typeof address === 'object' && address ? address.port : 0;
}

export async function withRestoredEtcd<T>(
  snapshotFile: string,
  use: (gateway: EtcdGateway) => Promise<T>,
  opts: { env?: NodeJS.ProcessEnv; readyMs?: number } = {},
): Promise<T> {
  const env = opts.env ?? process.env;
  const tool = await restoreTool(env);
  if (!tool)
    throw new Error('neither etcdutl nor etcdctl is installed here: cannot restore the etcd snapshot');
  const dir = await mkdtemp(join(tmpdir(), 'kindling-etcd-'));
  let child: ChildProcess | undefined;
  try {
    const [client, peer] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peer}`;
    const clientUrl = `http://127.0.0.1:${client}`;
    const dataDir = join(dir, 'data');
    const restored = await capture(localRunner(env), {
      argv: [
        ...tool.argv,
        'snapshot',
        'restore',
        snapshotFile,
        `--data-dir=${dataDir}`,
        `--name=${NAME}`,
        `--initial-cluster=${NAME}=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
      ],
      env: tool.env,
    });
    if (restored.exitCode !== 0)
      throw new Error(
        `${tool.argv[0]} snapshot restore exited ${restored.exitCode}: ${restored.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    let stderr = '';
    let exited: string | undefined;
    child = spawn(
      'etcd',
      [
        `--name=${NAME}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${NAME}=${peerUrl}`,
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('error', (err) => {
      exited = err.message;
    });
    child.on('exit', (code, sig) => {
      exited ??= `exited ${code ?? sig}`;
    });
    const gateway = new EtcdGateway(new URL(clientUrl), 10_000);
    const deadline = Date.now() + (opts.readyMs ?? 30_000);
    for (;;) {
      if (exited)
        throw new Error(
          `the scratch etcd on the restored data ${exited}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`,
        );
      const ok = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(
          `the scratch etcd on the restored data was not healthy within ${(opts.readyMs ?? 30_000) / 1000}s`,
        );
      await sleep(100);
    }
    return await use(gateway);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000).then(() => child!.kill('SIGKILL'))]);
    }
    await rm(dir, { recursive: true, force: true });
  }
}
