/**
 * Rule `data-dir`: a database's data directory must not be the mount point of its volume. A freshly
 * formatted ext4 volume holds `lost+found` at its root; MySQL 8's `--initialize` and PostgreSQL's
 * initdb refuse a non-empty directory (the images' entrypoints: docker-library/mysql
 * `docker-entrypoint.sh` docker_init_database_dir, docker-library/postgres `docker-entrypoint.sh`
 * docker_init_database_dir → initdb). Which env var or option names the directory is catalog data
 * (`policy.dataDirectories`), not code.
 */
import type { DataDirectoryRule } from '../catalog/types.ts';
import type { Finding, Path } from './findings.ts';
import { showObject, text } from './findings.ts';
import { asArray, containersOf, isRecord, type PodTemplate, podTemplate, str } from './objects.ts';
import type { KubeObject } from './render.ts';

/** `docker.io/library/mysql:8.0` → `mysql`; `quay.io/org/x@sha256:…` → `quay.io/org/x`. */
export function imageName(image: string): string {
  let name = image.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return name.replace(/^(docker\.io\/|index\.docker\.io\/)/, '').replace(/^library\//, '');
}

const clean = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** The data directory a container uses under a rule, and where that was decided. */
export function dataDirectory(
  c: Record<string, unknown>,
  rule: DataDirectoryRule,
): { dir: string; from: string } {
  if (rule.env)
    for (const e of asArray(c.env))
      if (isRecord(e) && e.name === rule.env && typeof e.value === 'string')
        return { dir: e.value, from: `env ${rule.env}` };
  if (rule.arg) {
    const argv = [...asArray(c.command), ...asArray(c.args)].map((a) => text(a));
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a.startsWith(`${rule.arg}=`)) return { dir: a.slice(rule.arg.length + 1), from: a };
      if (a === rule.arg && argv[i + 1] !== undefined)
        return { dir: argv[i + 1]!, from: `${a} ${argv[i + 1]}` };
    }
  }
  return { dir: rule.default, from: `the image's default` };
}

/** Volumes backed by a claim (a formatted block device in production), by name. */
function claimVolumes(t: PodTemplate): Set<string> {
  const names = new Set<string>();
  for (const v of asArray(t.spec.volumes))
    if (isRecord(v) && isRecord(v.persistentVolumeClaim) && typeof v.name === 'string') names.add(v.name);
  const spec = isRecord(t.object.spec) ? t.object.spec : {};
  for (const c of asArray(spec.volumeClaimTemplates)) {
    const name = isRecord(c) && isRecord(c.metadata) ? str(c.metadata.name) : undefined;
    if (name) names.add(name);
  }
  return names;
}

export function dataDirFindings(
  objects: readonly KubeObject[],
  rules: readonly DataDirectoryRule[],
): Finding[] {
  if (rules.length === 0) return [];
  const out: Finding[] = [];
  for (const o of objects) {
    const t = podTemplate(o);
    if (!t) continue;
    const claims = claimVolumes(t);
    for (const c of containersOf(t)) {
      const image = typeof c.value.image === 'string' ? imageName(c.value.image) : undefined;
      const rule = rules.find((r) => imageName(r.image) === image);
      if (!rule) continue;
      const { dir, from } = dataDirectory(c.value, rule);
      asArray(c.value.volumeMounts).forEach((m, i) => {
        if (!isRecord(m) || typeof m.mountPath !== 'string' || typeof m.name !== 'string') return;
        if (!claims.has(m.name) || m.subPath || m.subPathExpr) return;
        if (clean(m.mountPath) !== clean(dir)) return;
        const path: Path = [...c.path, 'volumeMounts', i, 'mountPath'];
        out.push({
          severity: 'error',
          rule: 'data-dir',
          message: `${showObject(o)}: container ${text(c.value.name)} keeps its data in ${dir} (${from}), which is the mount point of volume ${m.name} itself; a formatted volume's root holds lost+found, and ${rule.image} refuses to initialise a non-empty directory. Use a subdirectory${rule.env ? ` (${rule.env}=${clean(dir)}/data)` : rule.arg ? ` (${rule.arg}=${clean(dir)}/data)` : ''} or a subPath`,
          object: o,
          path,
        });
      });
    }
  }
  return out;
}
