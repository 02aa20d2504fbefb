/** Checks before creating a kind cluster, each with an actionable message. */
import { readFile, statfs } from 'node:fs/promises';
import { UsageError } from '../util/errors.ts';
import { type CommandError, run } from './run.ts';

/** Docker must be reachable: kind runs its nodes as containers. Exit 2 quickly when it is not. */
export async function checkDocker(docker = 'docker', timeoutMs = 5000): Promise<string> {
  try {
    const { stdout } = await run(docker, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs });
    return stdout.trim();
  } catch (err) {
    const e = err as CommandError;
    if (e.code === 'ENOENT')
      throw new UsageError(
        'Docker is needed to create a kind cluster, but the docker command is not installed. Install Docker, or deploy to an existing cluster: kindling deploy --kubeconfig FILE.',
      );
    throw new UsageError(
      `Docker is needed to create a kind cluster, but the Docker engine is not reachable (${firstLine(e.stderr || e.message)}). Start Docker, or deploy to an existing cluster: kindling deploy --kubeconfig FILE.`,
    );
  }
}

export interface PreflightFinding {
  level: 'error' | 'warning';
  message: string;
}

export const MIN_FREE_DISK_BYTES = 10 * 1024 ** 3;
export const MIN_MAX_MAP_COUNT = 262144;

/** Pure: judge the measured values. */
export function judgeHost(
  freeBytes: number | undefined,
  maxMapCount: number | undefined,
): PreflightFinding[] {
  const out: PreflightFinding[] = [];
  if (freeBytes !== undefined && freeBytes < MIN_FREE_DISK_BYTES)
    out.push({
      level: 'warning',
      message: `only ${(freeBytes / 1024 ** 3).toFixed(1)} GiB free for Docker; images and volumes of the stack need about 10 GiB (free space, e.g. docker system prune, or remove unused toolchains on the runner)`,
    });
  if (maxMapCount !== undefined && maxMapCount < MIN_MAX_MAP_COUNT)
    out.push({
      level: 'warning',
      message: `vm.max_map_count is ${maxMapCount}; Elasticsearch needs >= ${MIN_MAX_MAP_COUNT} on the host (kind nodes share its kernel): sudo sysctl -w vm.max_map_count=${MIN_MAX_MAP_COUNT}`,
    });
  return out;
}

export async function hostFindings(dockerRoot = '/var/lib/docker'): Promise<PreflightFinding[]> {
  let free: number | undefined;
  for (const dir of [dockerRoot, '/']) {
    try {
      const s = await statfs(dir);
      free = s.bavail * s.bsize;
      break;
    } catch {
      // try the next candidate
    }
  }
  let maxMap: number | undefined;
  try {
    maxMap = Number((await readFile('/proc/sys/vm/max_map_count', 'utf8')).trim());
  } catch {
    // not Linux: Docker Desktop's VM has its own setting
  }
  return judgeHost(free, maxMap);
}

const firstLine = (s: string) => s.trim().split('\n')[0]!.slice(0, 200);
