/** Checks before creating a kind cluster, each with an actionable message. */
import { readFile, statfs } from 'node:fs/promises';
import { UsageError } from '../util/errors.ts';
import { type CommandError, run } from './run.ts';

/** Where nothing can run a cluster, the whole pipeline can still be watched on a simulated one. */
const OFFLINE =
  ' To watch the whole pipeline (validate, deploy, verify, backup, drill) run offline, without Docker: npm run e2e (a simulated cluster, test/sim).';

/** Docker must be reachable: kind runs its nodes as containers. Exit 2 quickly when it is not. */
export async function checkDocker(docker = 'docker', timeoutMs = 5000): Promise<string> {
  try {
    const { stdout } = await run(docker, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs });
    return stdout.trim();
  } catch (err) {
    const e = err as CommandError;
    if (e.code === 'ENOENT')
      throw new UsageError(
        `Docker is needed to create a kind cluster, but the docker command is not installed. Install Docker, or deploy to an existing cluster: kindling deploy --kubeconfig FILE.${OFFLINE}`,
      );
    throw new UsageError(
      `Docker is needed to create a kind cluster, but the Docker engine is not reachable (${firstLine(e.stderr || e.message)}). Start Docker, or deploy to an existing cluster: kindling deploy --kubeconfig FILE.${OFFLINE}`,
    );
  }
}

export interface PreflightFinding {
  level: 'error' | 'warning';
  message: string;
}

export const MIN_FREE_DISK_BYTES = 10 * 1024 ** 3;

/** Pure: judge the free space measured for Docker (undefined: unknown). */
export function judgeDisk(freeBytes: number | undefined): PreflightFinding[] {
  if (freeBytes === undefined || freeBytes >= MIN_FREE_DISK_BYTES) return [];
  return [
    {
      level: 'warning',
      message: `only ${(freeBytes / 1024 ** 3).toFixed(1)} GiB free for Docker; images and volumes of the stack need about 10 GiB (free space, e.g. docker system prune, or remove unused toolchains on the runner)`,
    },
  ];
}

/** A kernel setting a selected component needs (the catalog's `host.sysctls`). */
export interface SysctlNeed {
  component: string;
  key: string;
  min: number;
}

/** Pure: the needs a host does not meet; `read` gives a sysctl's value (undefined: unknown). */
export function judgeSysctls(
  needs: readonly SysctlNeed[],
  read: (key: string) => number | undefined,
): PreflightFinding[] {
  return needs.flatMap((n) => {
    const v = read(n.key);
    if (v === undefined || v >= n.min) return [];
    return [
      {
        level: 'warning' as const,
        message: `${n.key} is ${v}; ${n.component} needs >= ${n.min} on the host (kind nodes share its kernel): sudo sysctl -w ${n.key}=${n.min}`,
      },
    ];
  });
}

/** Disk space, and the kernel settings the selected components need (the catalog's `host.sysctls`). */
export async function hostFindings(
  sysctls: readonly SysctlNeed[],
  dockerRoot = '/var/lib/docker',
): Promise<PreflightFinding[]> {
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
  const values = new Map<string, number | undefined>();
  for (const n of sysctls) values.set(n.key, await readSysctl(n.key));
  return [...judgeDisk(free), ...judgeSysctls(sysctls, (k) => values.get(k))];
}

/** A sysctl from /proc/sys (`vm.max_map_count` → /proc/sys/vm/max_map_count); undefined off Linux (Docker Desktop's VM has its own). */
async function readSysctl(key: string): Promise<number | undefined> {
  try {
    const v = Number((await readFile(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8')).trim());
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const firstLine = (s: string) => s.trim().split('\n')[0]!.slice(0, 200);
