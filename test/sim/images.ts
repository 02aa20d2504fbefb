/**
 * Simulation (test infrastructure): the images the stack pins, as the simulated node runs them.
 * A model says what the image's ENTRYPOINT/CMD are, which binaries it ships (an exec of anything
 * else fails like the runtime: `executable file not found in $PATH`), its users, and the files it
 * adds. The software itself is this machine's where it exists (PostgreSQL 15 for postgres:16,
 * MariaDB for mysql:8, etcd 3.4 for 3.5, redis 7.0 for 7.4, the Debian exporters), or a named
 * stand-in process (test/sim/images/standin.ts, mc.ts) where it does not.
 *
 * The registry decides pulls: a reference resolves when its repository has a model and its tag is
 * one the registry holds (default: the tags pinned in manifests/base/kustomization.yaml).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const SIM = resolve(import.meta.dirname);
const NODE = process.execPath;

export interface ImageModel {
  entrypoint: string[];
  cmd: string[];
  /** Executables on the image's PATH (names or absolute paths); undefined: a full userland. */
  ships?: string[];
  /** /etc/passwd lines of the image. */
  passwd?: string[];
  /** Files the image adds: path → content (mode 0755 when it starts with `#!`). */
  files?: Record<string, string>;
  /** Symlinks the image adds: path → this machine's binary that stands in for it. */
  links?: Record<string, string>;
  /** Turns the final argv into this machine's process (stand-ins only); other argv run as they are. */
  process?: (argv: string[]) => string[] | undefined;
}

const wrapper = (script: string, ...args: string[]) =>
  `#!/bin/sh\nexec ${NODE} ${join(SIM, 'images', script)} ${args.join(' ')} "$@"\n`;

// The Nacos schema the image ships at /home/nacos/conf/mysql-schema.sql: a stand-in with the tables
// the stack relies on (nacos-group/nacos `distribution/conf/mysql-schema.sql` has ~12; since 2.4.0
// it inserts no default user).
const NACOS_SCHEMA = `CREATE TABLE config_info (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, data_id varchar(255) NOT NULL, group_id varchar(128), content longtext NOT NULL);
CREATE TABLE users (username varchar(50) NOT NULL PRIMARY KEY, password varchar(500) NOT NULL, enabled boolean NOT NULL);
CREATE TABLE roles (username varchar(50) NOT NULL, role varchar(50) NOT NULL);
`;

export const MODELS: Record<string, ImageModel> = {
  // docker-library/postgres: ENTRYPOINT docker-entrypoint.sh, CMD postgres; alpine's postgres is uid 70
  'docker.io/library/postgres': {
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
    passwd: ['postgres:x:70:70:postgres:/var/lib/postgresql:/bin/sh'],
    links: { '/usr/local/bin/docker-entrypoint.sh': join(SIM, 'images', 'postgres-entrypoint.sh') },
  },
  // prometheus-community/postgres_exporter: ENTRYPOINT /bin/postgres_exporter (busybox base)
  'docker.io/prometheuscommunity/postgres-exporter': {
    entrypoint: ['/bin/postgres_exporter'],
    cmd: [],
    links: { '/bin/postgres_exporter': '/usr/bin/prometheus-postgres-exporter' },
  },
  // docker-library/redis: ENTRYPOINT docker-entrypoint.sh, CMD redis-server; alpine redis uid 999
  'docker.io/library/redis': {
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['redis-server'],
    passwd: ['redis:x:999:1000:redis:/data:/bin/sh'],
    links: { '/usr/local/bin/docker-entrypoint.sh': join(SIM, 'images', 'passthrough-entrypoint.sh') },
  },
  // oliver006/redis_exporter: FROM scratch, ENTRYPOINT /redis_exporter
  'docker.io/oliver006/redis_exporter': {
    entrypoint: ['/redis_exporter'],
    cmd: [],
    ships: ['/redis_exporter'],
    links: { '/redis_exporter': '/usr/bin/prometheus-redis-exporter' },
  },
  // docker-library/mysql 8.0: ENTRYPOINT docker-entrypoint.sh, CMD mysqld; mysql is uid 999
  'docker.io/library/mysql': {
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['mysqld'],
    passwd: ['mysql:x:999:999:mysql:/var/lib/mysql:/bin/sh'],
    links: { '/usr/local/bin/docker-entrypoint.sh': join(SIM, 'images', 'mysql-entrypoint.sh') },
  },
  // nacos-group/nacos-docker: ENTRYPOINT bin/docker-startup.sh (in /home/nacos)
  'docker.io/nacos/nacos-server': {
    entrypoint: ['bin/docker-startup.sh'],
    cmd: [],
    files: { '/home/nacos/conf/mysql-schema.sql': NACOS_SCHEMA },
    process: (argv) =>
      argv[0] === 'bin/docker-startup.sh' ? [NODE, join(SIM, 'images', 'standin.ts'), 'nacos'] : undefined,
  },
  // etcd-io/etcd release image: distroless, /usr/local/bin/etcd, etcdctl, etcdutl; no shell
  'quay.io/coreos/etcd': {
    entrypoint: ['/usr/local/bin/etcd'],
    cmd: [],
    ships: [
      '/usr/local/bin/etcd',
      '/usr/local/bin/etcdctl',
      '/usr/local/bin/etcdutl',
      'etcd',
      'etcdctl',
      'etcdutl',
    ],
    links: {
      '/usr/local/bin/etcd': '/usr/bin/etcd',
      '/usr/local/bin/etcdctl': '/usr/bin/etcdctl',
      '/usr/local/bin/etcdutl': '/usr/bin/etcdctl',
    },
  },
  // milvus-io/milvus build/docker/milvus: ENTRYPOINT ["/tini", "--"]; args `milvus run standalone`
  'docker.io/milvusdb/milvus': {
    entrypoint: ['/tini', '--'],
    cmd: [],
    process: (argv) => {
      const rest = argv[0] === '/tini' ? argv.slice(argv[1] === '--' ? 2 : 1) : argv;
      return rest[0] === 'milvus' && rest[1] === 'run'
        ? [NODE, join(SIM, 'images', 'standin.ts'), 'milvus']
        : undefined;
    },
  },
  // minio/minio: ENTRYPOINT /usr/bin/docker-entrypoint.sh, CMD minio; `server ...` means `minio server ...`
  'docker.io/minio/minio': {
    entrypoint: ['/usr/bin/docker-entrypoint.sh'],
    cmd: ['minio'],
    process: (argv) => {
      const rest = argv[0] === '/usr/bin/docker-entrypoint.sh' ? argv.slice(1) : argv;
      const args = rest[0] === 'minio' ? rest.slice(1) : rest;
      return args[0] === 'server' ? [NODE, join(SIM, 'images', 'standin.ts'), 'minio', ...args] : undefined;
    },
  },
  // kafbat/kafka-ui api/Dockerfile: USER kafkaui, shell-form CMD `java … -jar api.jar` (stand-in: images/kafka-ui.ts)
  'ghcr.io/kafbat/kafka-ui': {
    entrypoint: [],
    cmd: ['/bin/sh', '-c', 'java --add-opens java.rmi/javax.rmi.ssl=ALL-UNNAMED  $JAVA_OPTS -jar api.jar'],
    passwd: ['kafkaui:x:100:101:Linux User,,,:/home/kafkaui:/sbin/nologin'],
    process: (argv) =>
      /\bjava\b.*-jar api\.jar/.test(argv.join(' ')) ? [NODE, join(SIM, 'images', 'kafka-ui.ts')] : undefined,
  },
  // grafana/grafana (packaging/docker/Dockerfile): ENTRYPOINT ["/run.sh"], USER "$GF_UID" (472) in
  // group 0; the server is a stand-in (images/standin.ts grafana: its admin kept in grafana.db)
  'docker.io/grafana/grafana': {
    entrypoint: ['/run.sh'],
    cmd: [],
    passwd: ['grafana:x:472:0::/home/grafana:/sbin/nologin'],
    process: (argv) =>
      argv[0] === '/run.sh' ? [NODE, join(SIM, 'images', 'standin.ts'), 'grafana'] : undefined,
  },
  // minio/mc: ENTRYPOINT mc
  // prometheus/alertmanager Dockerfile: ENTRYPOINT /bin/alertmanager, CMD --config.file=… --storage.path=…,
  // USER nobody, on quay.io/prometheus/busybox (a shell userland); Debian's alertmanager 0.25 runs it
  'docker.io/prom/alertmanager': {
    entrypoint: ['/bin/alertmanager'],
    cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
    passwd: ['nobody:x:65534:65534:nobody:/home:/bin/false'],
    links: {
      '/bin/alertmanager': '/usr/bin/prometheus-alertmanager',
      '/bin/amtool': '/usr/bin/amtool',
    },
  },
  // docker-library/busybox: no ENTRYPOINT, CMD ["sh"] — the seed's 故障排查 throwaway pod. Its `nc`
  // applet (mirror/busybox networking/nc_bloaty.c: -z, -v, -w SECS) is this machine's netcat-openbsd,
  // the same flags and exit status (0 connected, 1 refused or timed out); the message wording differs.
  'docker.io/library/busybox': {
    entrypoint: [],
    cmd: ['sh'],
  },
  'docker.io/minio/mc': {
    entrypoint: ['mc'],
    cmd: [],
    files: { '/usr/bin/mc': wrapper('mc.ts') },
  },
};

/** `postgres:16` → `docker.io/library/postgres:16` (the runtime's reference normalisation). */
export function normalize(image: string): { repo: string; tag: string; ref: string } {
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(':');
  const hasTag = colon > base.lastIndexOf('/');
  let repo = hasTag ? base.slice(0, colon) : base;
  const tag = hasTag ? base.slice(colon + 1) : 'latest';
  const first = repo.split('/')[0]!;
  if (!repo.includes('/')) repo = `docker.io/library/${repo}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') repo = `docker.io/${repo}`;
  return { repo, tag, ref: `${repo}:${tag}` };
}

/** The tags the stack pins (manifests/base/kustomization.yaml `images:`), normalised. */
export function pinnedImages(repoRoot: string): string[] {
  const k = parse(readFileSync(join(repoRoot, 'manifests', 'base', 'kustomization.yaml'), 'utf8'));
  return (k.images ?? []).map(
    (i: { name: string; newTag: string }) => normalize(`${i.name}:${i.newTag}`).ref,
  );
}

export class ImageRegistry {
  private readonly refs: Set<string>;
  constructor(refs: Iterable<string>) {
    this.refs = new Set([...refs].map((r) => normalize(r).ref));
  }
  remove(ref: string): void {
    this.refs.delete(normalize(ref).ref);
  }
  /** The model for a pull, or the runtime's pull error (containerd's "not found" for an unknown tag). */
  pull(image: string): { model: ImageModel } | { error: string } {
    const { repo, ref } = normalize(image);
    const model = MODELS[repo];
    if (model && this.refs.has(ref)) return { model };
    return {
      error: `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`,
    };
  }
}
