/**
 * kind's documented local registry: a `registry:2` container on the host, joined to the `kind`
 * network, that every node resolves as `localhost:<hostPort>` through containerd's certs.d.
 * Pushing to localhost:5001 from the runner then makes images pullable inside the cluster.
 */
import { UsageError } from '../util/errors.ts';
import { type KindConfigOptions, registryHostsToml } from './config.ts';
import { CommandError, run } from './run.ts';

export type Registry = NonNullable<KindConfigOptions['registry']>;

/** registry:2 pinned like every other image kindling runs. */
export const REGISTRY_IMAGE = 'registry:2.8.3';

export function registryFor(hostPort = 5001, name = 'kind-registry'): Registry {
  if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535)
    throw new UsageError(`local registry port must be 1-65535 (got ${hostPort})`);
  return { name, port: 5000, hostPort };
}

/** Starts the registry container unless it runs already (a stopped one is started again). */
export async function ensureRegistry(
  reg: Registry,
  docker = 'docker',
): Promise<'running' | 'started' | 'created'> {
  let state: string | undefined;
  try {
    state = (
      await run(docker, ['inspect', '-f', '{{.State.Running}}', reg.name], { timeoutMs: 30_000 })
    ).stdout.trim();
  } catch (err) {
    if (!(err instanceof CommandError) || !/no such object/i.test(err.stderr + err.message)) throw err;
  }
  if (state === 'true') return 'running';
  if (state === 'false') {
    await run(docker, ['start', reg.name], { timeoutMs: 60_000 });
    return 'started';
  }
  await run(
    docker,
    [
      'run',
      '-d',
      '--restart=always',
      '-p',
      `127.0.0.1:${reg.hostPort}:${reg.port}`,
      '--network',
      'bridge',
      '--name',
      reg.name,
      REGISTRY_IMAGE,
    ],
    { timeoutMs: 300_000 },
  );
  return 'created';
}

/**
 * Points each node's containerd at the registry and joins the registry to the `kind` network
 * (after `kind create cluster`, which creates that network).
 */
export async function wireRegistry(
  reg: Registry,
  nodes: readonly string[],
  docker = 'docker',
): Promise<void> {
  const dir = `/etc/containerd/certs.d/localhost:${reg.hostPort}`;
  for (const node of nodes) {
    // content and path go in as positional arguments, never spliced into the script
    await run(
      docker,
      [
        'exec',
        node,
        'sh',
        '-c',
        'mkdir -p "$1" && printf "%s" "$2" > "$1/hosts.toml"',
        'sh',
        dir,
        registryHostsToml(reg),
      ],
      { timeoutMs: 30_000 },
    );
  }
  try {
    await run(docker, ['network', 'connect', 'kind', reg.name], { timeoutMs: 30_000 });
  } catch (err) {
    if (!(err instanceof CommandError) || !/already exists/i.test(err.stderr + err.message)) throw err;
  }
}
