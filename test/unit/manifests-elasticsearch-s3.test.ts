/**
 * Issue #15 follow-up: the elasticsearch-snapshot backup registers an S3 repository with the catalog's
 * `client:`, so the node must have that client — endpoint, protocol and path_style_access as node
 * settings, and the keys in its keystore (secure settings: elastic/elasticsearch
 * modules/repository-s3/src/main/java/org/elasticsearch/repositories/s3/S3ClientSettings.java, and
 * server/src/main/java/org/elasticsearch/common/settings/SecureSetting.java, which refuses them
 * anywhere else). Checked on the rendered manifests of both sizings; the init container's script runs
 * here with sh and a STAND-IN `elasticsearch-keystore` (no Elasticsearch can run here) that records
 * its calls and answers as the real CLI does on the points tested
 * (distribution/tools/keystore-cli/.../CreateKeyStoreCommand.java, AddStringKeyStoreCommand.java,
 * BaseKeyStoreCommand.java, ListKeyStoreCommand; libs/cli Terminal.java: a question with no terminal
 * fails). Then the node's S3 clients as those settings and that keystore make them run the catalog's
 * snapshot backup against the Elasticsearch STAND-IN (test/standins/elasticsearch.ts) over a real
 * s3rver in MinIO's place. Also: each MinIO bucket is copied by one backup only.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup, selectBackups } from '../../src/app/backup.ts';
import { partSpecs } from '../../src/backup/sources/sequence.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { BackupSpec, Component, Endpoint } from '../../src/catalog/types.ts';
import { secretValues } from '../../src/manifests/objects.ts';
import { ownershipFindings } from '../../src/manifests/ownership.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { reachability } from '../../src/security/matrix.ts';
import { S3Store, s3Settings } from '../../src/store/s3.ts';
import { parseStoreUrl } from '../../src/store/url.ts';
import { localTarget } from '../../src/targets/local.ts';
import { describeWithServices, type RunningS3, startS3 } from '../harness/services.ts';
import { listKeys, s3Client } from '../integration/backup-helpers.ts';
import { ElasticsearchStandin } from '../standins/elasticsearch.ts';

const stack = loadStack('manifests/stack.yaml');
const es = stack.components.elasticsearch!;
const snapshot = es.backups.find((b) => b.type === 'elasticsearch-snapshot')!;
const CLIENT = String(snapshot.client);
const minioEndpoint = stack.components.minio!.endpoints[0]!;
const SIZINGS = ['kind', 'production'] as const;

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
};
type Mount = { name: string; mountPath: string; readOnly?: boolean };
type Container = { name: string; image: string; command?: string[]; env?: EnvVar[]; volumeMounts?: Mount[] };
type PodSpec = {
  enableServiceLinks?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
};

let rendered: Record<(typeof SIZINGS)[number], KubeObject[]>;
beforeAll(async () => {
  rendered = {
    kind: await renderSizing(stack, 'kind'),
    production: await renderSizing(stack, 'production'),
  };
}, 60_000);

const find = (objects: KubeObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return o;
};
const podSpec = (objects: KubeObject[]) =>
  (find(objects, 'StatefulSet', 'elasticsearch').spec as { template: { spec: PodSpec } }).template.spec;
const server = (p: PodSpec) => p.containers.find((c) => c.name === 'elasticsearch')!;
const keystoreInit = (p: PodSpec) => {
  const c = p.initContainers?.find((x) => x.name === 'keystore');
  if (!c) throw new Error('no init container keystore');
  return c;
};
const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));
/** The ConfigMap key a container runs as `sh /dir/key`, through its volume mounts. */
function scriptOf(objects: KubeObject[], p: PodSpec, c: Container): string {
  expect(c.command?.[0]).toBe('sh');
  const path = c.command![1]!;
  const mount = c.volumeMounts!.find((m) => path.startsWith(`${m.mountPath}/`))!;
  const cm = p.volumes!.find((v) => v.name === mount.name)!.configMap!.name;
  const data = find(objects, 'ConfigMap', cm).data as Record<string, string>;
  const script = data[path.slice(mount.mountPath.length + 1)];
  if (!script) throw new Error(`ConfigMap ${cm} has no ${path}`);
  return script;
}
/** A Secret key's value as rendered (base: stringData; production: the generator's data). */
function secretValue(objects: KubeObject[], ref: { name: string; key: string }): string {
  const v = secretValues(find(objects, 'Secret', ref.name)).find((x) => x.key === ref.key);
  if (!v) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
  return v.value;
}

describe('Elasticsearch has the S3 client its snapshot backup names (rendered manifests, both sizings)', () => {
  it('the catalog names a client, and MinIO is a dependency (its Secret, and a NetworkPolicy admitting the node)', () => {
    expect(CLIENT).toMatch(/^[a-z0-9_-]+$/);
    expect(es.dependsOn).toContain('minio');
  });

  it.each(SIZINGS)(
    '%s: s3.client.<client>.endpoint/protocol/path_style_access point at the catalog MinIO Service',
    (profile) => {
      const objects = rendered[profile];
      const p = podSpec(objects);
      const env = envOf(server(p));
      expect(env.get(`s3.client.${CLIENT}.endpoint`)?.value).toBe(
        `${minioEndpoint.service}:${minioEndpoint.port}`,
      );
      expect(env.get(`s3.client.${CLIENT}.protocol`)?.value).toBe(minioEndpoint.scheme);
      expect(env.get(`s3.client.${CLIENT}.path_style_access`)?.value).toBe('true');
      // the Service exists with that port
      const svc = find(objects, 'Service', minioEndpoint.service).spec as { ports: { port: number }[] };
      expect(svc.ports.map((x) => x.port)).toContain(minioEndpoint.port);
      // every s3.client setting is of this one client, and is an env var the image turns into -E:
      // names of dot-separated lower-case words (distribution/src/bin/elasticsearch-env)
      const s3 = [...env.keys()].filter((k) => k.startsWith('s3.'));
      expect(s3.length).toBe(3);
      for (const name of s3) {
        expect(name.startsWith(`s3.client.${CLIENT}.`), name).toBe(true);
        expect(name).toMatch(/^[-a-z0-9_]+(\.[-a-z0-9_]+)+$/);
      }
      // secure settings in env would stop the node: SecureSetting.get throws "must be stored inside the keystore"
      for (const c of [...p.containers, ...(p.initContainers ?? [])])
        for (const e of c.env ?? []) expect(e.name).not.toMatch(/(access_key|secret_key|session_token)$/);
      expect(p.enableServiceLinks).toBe(false);
    },
  );

  it.each(SIZINGS)(
    '%s: the init container keystore fills the config volume the server mounts, with the keys of the catalog endpoint',
    (profile) => {
      const objects = rendered[profile];
      const p = podSpec(objects);
      const init = keystoreInit(p);
      const env = envOf(init);
      // same pinned image as the server: its config files and its keystore CLI
      expect(init.image).toBe(server(p).image);
      expect(init.image).toMatch(/:\d+\.\d+\.\d+$/);
      expect(env.get('S3_CLIENT')?.value).toBe(CLIENT);
      // the same Secret keys the catalog's minio endpoint (and Milvus, and the s3-copy backup) use
      const ref = (n: string) => env.get(n)?.valueFrom?.secretKeyRef;
      const user = minioEndpoint.username as { secret: string; key: string };
      const pass = minioEndpoint.password as { secret: string; key: string };
      expect(ref('S3_ACCESS_KEY')).toEqual({ name: user.secret, key: user.key });
      expect(ref('S3_SECRET_KEY')).toEqual({ name: pass.secret, key: pass.key });
      // one emptyDir: at ES_PATH_CONF in the init container, at the image's config path in the server
      const conf = env.get('ES_PATH_CONF')!.value!;
      const initMount = init.volumeMounts!.find((m) => m.mountPath === conf)!;
      const serverMount = server(p).volumeMounts!.find((m) => m.name === initMount.name)!;
      expect(serverMount.mountPath).toBe('/usr/share/elasticsearch/config');
      expect(env.get('IMAGE_CONFIG')?.value).toBe('/usr/share/elasticsearch/config');
      expect(p.volumes!.find((v) => v.name === initMount.name)!.emptyDir).toBeDefined();
      expect(scriptOf(objects, p, init)).toContain('elasticsearch-keystore');
    },
  );

  it.each(SIZINGS)(
    '%s: kindling validate rules ownership and network-policy are clean for elasticsearch → minio',
    (profile) => {
      const objects = rendered[profile];
      expect(ownershipFindings(objects, stack).map((f) => f.message)).toEqual([]);
      const r = reachability(stack, objects);
      expect(r.violations.map((v) => v.message)).toEqual([]);
      const cell = r.cells.find((c) => c.from === 'elasticsearch' && c.to === 'minio');
      expect(cell?.ports).toContain(String(minioEndpoint.port));
    },
  );
});

/**
 * STAND-IN for the image's `elasticsearch-keystore` (bin/elasticsearch-keystore → keystore-cli),
 * behaving like it on what the script relies on: the keystore is $ES_PATH_CONF/elasticsearch.keystore
 * (KeyStoreWrapper.keystorePath); `create` over an existing one asks "Overwrite?" and, with stdin not
 * a terminal and empty, fails (Terminal.SystemTerminal.readText); `add` without --force asks to
 * create a missing keystore and to overwrite an existing setting (BaseKeyStoreCommand,
 * AddStringKeyStoreCommand); `--stdin` reads one line per setting name; `list` prints the names,
 * sorted, with keystore.seed (KeyStoreWrapper.create adds it). Its file format (name TAB value) is the
 * stand-in's own. Every call is appended to $KEYSTORE_CALLS with the ES_PATH_CONF it saw.
 */
const FAKE_KEYSTORE = `#!/bin/sh
set -u
echo "$* (ES_PATH_CONF=\${ES_PATH_CONF:-})" >> "$KEYSTORE_CALLS"
[ -d "\${ES_PATH_CONF:-}" ] || { echo "ES_PATH_CONF must be set to the configuration path" >&2; exit 1; }
ks="$ES_PATH_CONF/elasticsearch.keystore"
ask() { printf '%s [y/N]' "$1" >&2; if ! IFS= read -r answer; then echo "ERROR: unable to read from standard input; is standard input open and a tty attached?" >&2; exit 70; fi; [ "$answer" = y ] || { echo "Did not understand answer '$answer'" >&2; exit 70; }; }
cmd=$1; shift
case $cmd in
  create)
    [ -e "$ks" ] && ask "An elasticsearch keystore already exists. Overwrite?"
    printf 'keystore.seed\\tseed\\n' > "$ks"; echo "Created elasticsearch keystore in $ks" ;;
  add)
    stdin=0 force=0
    while [ $# -gt 0 ]; do case $1 in -x|--stdin) stdin=1 ;; -f|--force) force=1 ;; -*) exit 64 ;; *) break ;; esac; shift; done
    [ $# -gt 0 ] || { echo "ERROR: the setting names can not be empty" >&2; exit 64; }
    if [ ! -e "$ks" ]; then [ $force = 1 ] || ask "The elasticsearch keystore does not exist. Do you want to create it?"; printf 'keystore.seed\\tseed\\n' > "$ks"; fi
    for name in "$@"; do
      printf '%s' "$name" | grep -Eq '^[A-Za-z0-9_.-]+$' || { echo "ERROR: Setting name [$name] does not match the allowed setting name pattern" >&2; exit 65; }
      if cut -f1 "$ks" | grep -Fxq "$name"; then [ $force = 1 ] || ask "Setting $name already exists. Overwrite?"; fi
      [ $stdin = 1 ] || printf 'Enter value for %s: ' "$name" >&2
      IFS= read -r value || [ -n "$value" ] || { echo "ERROR: unable to read from standard input; is standard input open and a tty attached?" >&2; exit 70; }
      { awk -F "\\t" -v n="$name" '$1 != n' "$ks"; printf '%s\\t%s\\n' "$name" "$value"; } > "$ks.tmp"; mv "$ks.tmp" "$ks"
    done ;;
  list)
    [ -e "$ks" ] || { echo "ERROR: Elasticsearch keystore not found at [$ks]. Use 'create' command to create one." >&2; exit 65; }
    cut -f1 "$ks" | sort ;;
  *) exit 64 ;;
esac
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A pod's worth of directories: the image's config (as the image ships it), the emptyDir, the fake CLI. */
function pod() {
  const root = mkdtempSync(join(tmpdir(), 'kindling-es-keystore-'));
  dirs.push(root);
  const image = join(root, 'image-config');
  mkdirSync(join(image, 'jvm.options.d'), { recursive: true });
  // distribution/docker/src/docker/config/elasticsearch.yml (the image's own), and the archive's files
  writeFileSync(join(image, 'elasticsearch.yml'), 'cluster.name: "docker-cluster"\nnetwork.host: 0.0.0.0\n');
  writeFileSync(join(image, 'jvm.options'), '-XX:+UseG1GC\n');
  writeFileSync(join(image, 'log4j2.properties'), 'status = error\n');
  const volume = join(root, 'volume');
  mkdirSync(volume);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'elasticsearch-keystore'), FAKE_KEYSTORE);
  chmodSync(join(bin, 'elasticsearch-keystore'), 0o755);
  return { root, image, volume, bin, calls: join(root, 'calls.log') };
}

/**
 * Runs the init container's script with its env as rendered (Secrets resolved; `secrets` replaces a
 * Secret key's value, "name/key"), paths moved into `dirs`, `override` last.
 */
function run(
  objects: KubeObject[],
  d: ReturnType<typeof pod>,
  override: Record<string, string> = {},
  secrets: Record<string, string> = {},
) {
  const p = podSpec(objects);
  const init = keystoreInit(p);
  const env: Record<string, string> = {};
  for (const e of init.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref ? (secrets[`${ref.name}/${ref.key}`] ?? secretValue(objects, ref)) : (e.value ?? '');
  }
  Object.assign(env, { IMAGE_CONFIG: d.image, ES_PATH_CONF: d.volume }, override);
  const r = spawnSync('sh', ['-c', scriptOf(objects, p, init)], {
    env: { ...env, PATH: `${d.bin}:${process.env.PATH}`, KEYSTORE_CALLS: d.calls },
    encoding: 'utf8',
    timeout: 20_000,
    stdio: ['ignore', 'pipe', 'pipe'], // no terminal, stdin at EOF: as in a pod
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, env };
}
const keystore = (d: ReturnType<typeof pod>) =>
  Object.fromEntries(
    readFileSync(join(d.volume, 'elasticsearch.keystore'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );

describe('the keystore init script (rendered, run with sh and a STAND-IN elasticsearch-keystore)', () => {
  it.each(SIZINGS)(
    '%s: copies the image config, then a keystore with the client keys from minio-secret; no key printed',
    (profile) => {
      const d = pod();
      const r = run(rendered[profile], d);
      expect(r.status, r.out).toBe(0);
      expect(readFileSync(join(d.volume, 'elasticsearch.yml'), 'utf8')).toContain('network.host: 0.0.0.0');
      expect(existsSync(join(d.volume, 'jvm.options.d'))).toBe(true);
      const user = secretValue(rendered[profile], { name: 'minio-secret', key: 'MINIO_ROOT_USER' });
      const pass = secretValue(rendered[profile], { name: 'minio-secret', key: 'MINIO_ROOT_PASSWORD' });
      expect(keystore(d)).toEqual({
        'keystore.seed': 'seed',
        [`s3.client.${CLIENT}.access_key`]: user,
        [`s3.client.${CLIENT}.secret_key`]: pass,
      });
      expect(readFileSync(d.calls, 'utf8').trimEnd().split('\n')).toEqual([
        `create (ES_PATH_CONF=${d.volume})`,
        `add --stdin --force s3.client.${CLIENT}.access_key (ES_PATH_CONF=${d.volume})`,
        `add --stdin --force s3.client.${CLIENT}.secret_key (ES_PATH_CONF=${d.volume})`,
        `list (ES_PATH_CONF=${d.volume})`,
      ]);
      expect(r.out).toContain(`s3.client.${CLIENT}.secret_key`);
      expect(r.out).not.toContain(pass);
    },
  );

  it('a restarted pod (same emptyDir, keystore present) gets the rotated password, not the old one', () => {
    const d = pod();
    expect(run(rendered.kind, d, { S3_SECRET_KEY: 'before-rotation' }).status).toBe(0);
    const again = run(rendered.kind, d, { S3_SECRET_KEY: 'after-rotation' });
    expect(again.status, again.out).toBe(0);
    expect(keystore(d)[`s3.client.${CLIENT}.secret_key`]).toBe('after-rotation');
  });

  it('an empty key fails the init container naming the variable, before any keystore call', () => {
    const d = pod();
    const r = run(rendered.kind, d, { S3_SECRET_KEY: '' });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/S3_SECRET_KEY: is empty \(Secret key missing\?\)/);
    expect(existsSync(d.calls)).toBe(false);
  });

  it('the stand-in refuses what the real CLI refuses: create over a keystore, add of an existing setting without --force', () => {
    const d = pod();
    const ks = (args: string[], input = '') =>
      spawnSync(join(d.bin, 'elasticsearch-keystore'), args, {
        env: { ES_PATH_CONF: d.volume, KEYSTORE_CALLS: d.calls, PATH: process.env.PATH },
        input,
        encoding: 'utf8',
      });
    expect(ks(['create']).status).toBe(0);
    expect(ks(['create']).stderr).toMatch(/unable to read from standard input/);
    expect(ks(['add', '--stdin', 'a.b'], 'v1\n').status).toBe(0);
    expect(ks(['add', '--stdin', 'a.b'], 'v2\n').status).not.toBe(0);
    expect(ks(['add', '--stdin', '--force', 'a.b'], 'v3\n').status).toBe(0);
    expect(keystore(d)['a.b']).toBe('v3');
  });

  it('shellcheck finds nothing in the script (POSIX sh)', () => {
    const p = podSpec(rendered.kind);
    const r = spawnSync('shellcheck', ['-s', 'sh', '-'], {
      input: scriptOf(rendered.kind, p, keystoreInit(p)),
      encoding: 'utf8',
    });
    expect(r.error, 'shellcheck is in .ci/run packages').toBeUndefined();
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

/** Which S3 server a backup (or a sequence part) reads: `service:port` of its endpoint. */
function s3Server(component: Component, spec: BackupSpec): string {
  const ep: Endpoint =
    component.endpoints.find((e) => e.name === spec.endpoint) ?? (component.endpoints[0] as Endpoint);
  return `${ep.service}:${ep.port}`;
}
/** Every s3-copy bucket of the catalog, with who copies it (sequence parts included). */
function copiedBuckets(): { server: string; bucket: string; by: string }[] {
  const out: { server: string; bucket: string; by: string }[] = [];
  for (const c of Object.values(stack.components))
    for (const b of c.backups)
      for (const spec of b.type === 'sequence' ? partSpecs(b) : [b])
        if (spec.type === 's3-copy')
          for (const bucket of spec.buckets as string[])
            out.push({ server: s3Server(c, spec), bucket, by: `${c.name}/${b.name}` });
  return out;
}

describe('MinIO buckets in the catalog backups: one owner each', () => {
  it('milvus-bucket is copied by milvus/consistent (with its etcd metadata) only, not by minio/buckets', () => {
    const by = copiedBuckets().filter((x) => x.bucket === 'milvus-bucket');
    expect(by.map((x) => x.by)).toEqual(['milvus/consistent']);
    const minio = stack.components.minio!.backups.find((b) => b.type === 's3-copy')!;
    expect(minio.buckets).toEqual(['documents', 'multimodal']);
  });

  it('no bucket of one S3 server is copied by two backups, and none is the bucket Elasticsearch snapshots into', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const x of copiedBuckets()) {
      const key = `${x.server}/${x.bucket}`;
      if (seen.has(key)) twice.push(`${key}: ${seen.get(key)} and ${x.by}`);
      else seen.set(key, x.by);
    }
    expect(twice).toEqual([]);
    expect(seen.has(`${s3Server(stack.components.minio!, {} as BackupSpec)}/${snapshot.bucket}`)).toBe(false);
  });
});

/** The S3 client settings a node ends up with: what S3ClientSettings.java reads for one client. */
interface NodeS3Client {
  endpoint: string;
  pathStyle: boolean;
  accessKey?: string;
  secretKey?: string;
}
/**
 * The node's S3 clients from its settings as the manifests give them: the server's `s3.client.NAME.*`
 * env vars (the image's -E flags) and the keystore's entries, grouped by NAME (S3ClientSettings.load
 * groups "s3.client."); an endpoint without a scheme gets `protocol://` in front (S3Service.java of
 * the 8.x SDK v1 client; the protocol defaults to https). Pure.
 */
function nodeS3Clients(env: Map<string, EnvVar>, keys: Record<string, string>): Record<string, NodeS3Client> {
  const settings = new Map<string, Record<string, string>>();
  const entries = [...[...env].map(([k, e]) => [k, e.value ?? ''] as const), ...Object.entries(keys)];
  for (const [k, v] of entries) {
    const m = /^s3\.client\.([^.]+)\.(.+)$/.exec(k);
    if (!m) continue;
    const s = settings.get(m[1]!) ?? {};
    s[m[2]!] = v;
    settings.set(m[1]!, s);
  }
  const out: Record<string, NodeS3Client> = {};
  for (const [name, s] of settings) {
    const ep = s.endpoint ?? '';
    out[name] = {
      endpoint: /^https?:\/\//.test(ep) ? ep : `${s.protocol ?? 'https'}://${ep}`,
      pathStyle: s.path_style_access === 'true',
      accessKey: s.access_key,
      secretKey: s.secret_key,
    };
  }
  return out;
}

describeWithServices(
  'the node as the rendered manifests configure it runs the catalog snapshot backup (ES STAND-IN, real s3rver as MinIO)',
  ['s3'],
  () => {
    let s3: RunningS3;
    let node: ElasticsearchStandin;
    beforeAll(async () => {
      s3 = await startS3({ buckets: ['backups'] });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([node?.stop(), s3?.stop()]);
    });

    it('client minio: http, path-style, keys from minio-secret; PUT _snapshot verifies and the snapshot lands in backups/elasticsearch/', async () => {
      const objects = rendered.kind;
      const d = pod();
      // this MinIO is an s3rver: its account is S3RVER. It refuses an unknown access key id
      // (InvalidAccessKeyId) but checks no signature, so the access key must travel Secret → env →
      // keystore → client intact; the secret key only has to arrive.
      const user = minioEndpoint.username as { secret: string; key: string };
      const secrets = { [`${user.secret}/${user.key}`]: s3.accessKeyId };
      expect(run(objects, d, {}, secrets).status).toBe(0);
      const clients = nodeS3Clients(envOf(server(podSpec(objects))), keystore(d));
      expect(Object.keys(clients)).toEqual([CLIENT]);
      const c = clients[CLIENT]!;
      expect(c).toEqual({
        endpoint: `http://${minioEndpoint.service}:${minioEndpoint.port}`,
        pathStyle: true,
        accessKey: s3.accessKeyId,
        secretKey: secretValue(objects, { name: 'minio-secret', key: 'MINIO_ROOT_PASSWORD' }),
      });
      // cluster DNS stand-in: the Service name resolves to the s3rver
      const endpoint = c.endpoint.replace(
        `${minioEndpoint.service}:${minioEndpoint.port}`,
        new URL(s3.endpoint).host,
      );
      node = await new ElasticsearchStandin({
        clients: { [CLIENT]: { endpoint, accessKey: c.accessKey!, secretKey: c.secretKey! } },
      }).start();
      for (let i = 0; i < 5; i++) node.put('voiceassistant-logs', `d${i}`, { msg: `line ${i}` });
      const location = parseStoreUrl('s3://backups/kindling');
      const store = new S3Store(
        s3Settings({
          endpoint: s3.endpoint,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
        }),
      );
      const outcome = await runBackup({
        selected: selectBackups(stack, ['elasticsearch'], []),
        target: localTarget(new Map([['elasticsearch.http', new URL(node.url)]]), stack.namespace),
        store,
        location,
        compression: 'zstd',
      });
      expect(outcome.components.map((x) => x.error)).toEqual([undefined]);
      expect(node.repos.get('kindling')?.settings).toMatchObject({ client: CLIENT, bucket: snapshot.bucket });
      const keys = await listKeys(s3Client(s3.endpoint), String(snapshot.bucket), 'elasticsearch/');
      expect(keys.some((k) => k.startsWith('elasticsearch/snap-'))).toBe(true);
    }, 60_000);
  },
);
