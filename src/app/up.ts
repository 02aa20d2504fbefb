/**
 * `up` (create a kind cluster, deploy, verify) and `down` (delete it). The faces differ only in
 * how they get the kind binary: the CLI takes `kind` from PATH, the action downloads the pinned
 * release (`KindSource`). Every setting is checked before Docker or kind is touched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../catalog/types.ts';
import type { KindBinary } from '../kind/install.ts';
import type { SysctlNeed } from '../kind/preflight.ts';
import type { Registry } from '../kind/registry.ts';
import { chooseKind } from '../kind/versions.ts';
import {
  type CheckedRollout,
  checkRollout,
  type DeployHooks,
  ROLLOUT_FLAGS,
  type RolloutOutcome,
  type RolloutSettings,
  rollout,
} from './deploy.ts';
import { invalid, list, type Setting, speaking } from './settings.ts';

export interface UpSettings extends RolloutSettings {
  name: Setting<string>;
  kindVersion: Setting<string | undefined>;
  nodeImage: Setting<string | undefined>;
  /** `true` (port 5001), a port number, or empty/false for none. */
  registry: Setting<string | boolean | undefined>;
  imageArchives: Setting<string | readonly string[] | undefined>;
}

export const UP_FLAGS = {
  ...ROLLOUT_FLAGS,
  name: '--name',
  kindVersion: '--kind-version',
  nodeImage: '--node-image',
  registry: '--registry',
  imageArchives: '--load-images',
} as const;

/** How a face gets kind: from PATH (installed version known up front) or a download of `version`. */
export interface KindSource {
  /** The version of a kind already installed (PATH), checked against the one asked for. */
  installed?: () => Promise<KindBinary>;
  /** Download/cache the chosen version. */
  install?: (version: string) => Promise<KindBinary>;
}

export interface UpHooks extends DeployHooks {
  warn?: (message: string) => void;
  /** Called once the cluster exists (the action saves post-step state here). */
  onCluster?: (kind: KindBinary, name: string, nodeImage: string) => void;
  group?: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
}

export interface CheckedUp extends CheckedRollout {
  name: string;
  kindVersion: string;
  nodeImage: string;
  registryPort?: number;
  imageArchives: string[];
}

export interface UpOutcome extends RolloutOutcome {
  kubeconfig: string;
  clusterName: string;
  kindVersion: string;
  nodeImage: string;
  registry?: string;
}

/** The kernel settings the selected components need, from the catalog's `host.sysctls` (pure). */
export const sysctlNeeds = (components: readonly Component[]): SysctlNeed[] =>
  components.flatMap((c) =>
    Object.entries(c.host?.sysctls ?? {}).map(([key, min]) => ({ component: c.name, key, min })),
  );

/** `registry`: `true` → 5001, a port number, or nothing (pure). */
export function registryPort(s: Setting<string | boolean | undefined>): number | undefined {
  const v = s.value;
  if (v === undefined || v === '' || v === false || v === 'false') return undefined;
  if (v === true || v === 'true') return 5001;
  const port = Number(v);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid(s, `must be true, false or a port number (got "${v}")`);
  return port;
}

/** Every `up` setting checked before anything runs (pure apart from reading the catalog). */
export function checkUp(s: UpSettings, installed?: string): CheckedUp {
  const rolloutChecked = checkRollout(s);
  const name = s.name.value.trim() || 'kindling';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name))
    throw invalid(s.name, `"${name}" is not a valid kind cluster name (lowercase letters, digits, -)`);
  const { kindVersion, nodeImage } = chooseKind({
    ...(s.kindVersion.value ? { requested: s.kindVersion.value } : {}),
    ...(installed ? { installed } : {}),
    ...(s.nodeImage.value ? { nodeImage: s.nodeImage.value } : {}),
    names: { version: nameOf(s.kindVersion), image: nameOf(s.nodeImage) },
  });
  const imageArchives = list(s.imageArchives);
  const missing = imageArchives.filter((a) => !existsSync(a));
  if (missing.length) throw invalid(s.imageArchives, `image archive(s) not found: ${missing.join(', ')}`);
  const port = registryPort(s.registry);
  return {
    ...rolloutChecked,
    name,
    kindVersion,
    nodeImage,
    imageArchives,
    ...(port ? { registryPort: port } : {}),
  };
}

const nameOf = (s: Setting<unknown>) =>
  s.origin.kind === 'flag' ? s.origin.name : `input "${s.origin.name}"`;

/** `up`: check → Docker preflight → kind → cluster → deploy → verify. */
export async function up(
  s: UpSettings,
  kind: KindSource,
  work: string,
  hooks: UpHooks = {},
): Promise<UpOutcome> {
  return speaking(s, UP_FLAGS, async () => {
    let checked = checkUp(s);
    const [{ checkDocker, hostFindings }, { KindCli }, { registryFor }, { setUpKindCluster }] =
      await Promise.all([
        import('../kind/preflight.ts'),
        import('../kind/kind.ts'),
        import('../kind/registry.ts'),
        import('../kind/setup.ts'),
      ]);
    await checkDocker(); // a usage error within seconds when there is no engine
    for (const f of await hostFindings(sysctlNeeds(checked.components))) hooks.warn?.(f.message);
    let binary: KindBinary;
    if (kind.installed) {
      binary = await kind.installed();
      checked = checkUp(s, binary.version);
    } else binary = await kind.install!(checked.kindVersion);
    const cli = new KindCli(binary.path);
    const registry: Registry | undefined = checked.registryPort
      ? registryFor(checked.registryPort)
      : undefined;
    const group = hooks.group ?? (<T>(_t: string, fn: () => Promise<T>) => fn());
    await group(`kind create cluster ${checked.name}`, () =>
      setUpKindCluster(cli, {
        name: checked.name,
        nodeImage: checked.nodeImage,
        ...(registry ? { registry } : {}),
        imageArchives: checked.imageArchives,
        log: (m) => hooks.log?.('kind', m),
      }),
    );
    hooks.onCluster?.(binary, checked.name, checked.nodeImage);
    const kubeconfig = await cli.exportKubeconfig(checked.name, join(work, 'kubeconfig'));
    const { loadKubeConfig } = await import('../kube/config.ts');
    const kc = loadKubeConfig({ path: kubeconfig });
    hooks.onKubeconfig?.(kubeconfig, checked.name);
    if (registry) {
      const [{ KubeClient }, { localRegistryHostingConfigMap }] = await Promise.all([
        import('../kube/client.ts'),
        import('../kind/config.ts'),
      ]);
      await new KubeClient(kc).apply(localRegistryHostingConfigMap(registry.hostPort));
    }
    const out = await rollout(checked, kc, hooks, (dir) =>
      cli.exportLogs(checked.name, join(dir, 'kind-logs')),
    );
    return {
      ...out,
      kubeconfig,
      clusterName: checked.name,
      kindVersion: binary.version,
      nodeImage: checked.nodeImage,
      ...(registry ? { registry: `localhost:${registry.hostPort}` } : {}),
    };
  });
}

/** `down`: deletes the kind cluster; false when there was none of that name. */
export async function down(name: Setting<string>, kind: () => Promise<KindBinary>): Promise<boolean> {
  const { KindCli } = await import('../kind/kind.ts');
  const cli = new KindCli((await kind()).path);
  if (!(await cli.clusters()).includes(name.value)) return false;
  await cli.delete(name.value);
  return true;
}
