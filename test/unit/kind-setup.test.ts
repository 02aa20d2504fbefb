// kind cluster set-up with stand-in `kind` and `docker` executables (no Docker engine runs here):
// each records its argv and answers like the real one on the points used.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KindCli } from '../../src/kind/kind.ts';
import { registryFor } from '../../src/kind/registry.ts';
import { setUpKindCluster } from '../../src/kind/setup.ts';
import { UsageError } from '../../src/util/errors.ts';

let dir: string;
let log: string;
let kind: string;
let docker: string;

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const calls = (who: string) =>
  readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith(`${who}: `))
    .map((l) => l.slice(who.length + 2));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kindling-kind-setup-'));
  log = join(dir, 'argv.log');
  writeFileSync(log, '');
  kind = script(
    join(dir, 'kind'),
    `printf 'kind: %s\\n' "$*" >> "${log}"
case "$1 $2" in
  "get clusters") exit 0 ;;
  "get nodes") echo kindling-control-plane ;;
  "create cluster") cp "$6" "${dir}/used-config.yaml" ;;
esac`,
  );
  // docker stand-in: `inspect` of an absent container fails like docker does; exec writes the file
  // the way `sh -c` would inside the node, under DIR/node
  docker = script(
    join(dir, 'docker'),
    `printf 'docker: %s\\n' "$*" >> "${log}"
case "$1" in
  inspect) [ -f "${dir}/registry-state" ] && cat "${dir}/registry-state" && exit 0
           echo "Error: No such object: $4" >&2; exit 1 ;;
  run) echo true > "${dir}/registry-state"; echo 0123abcd ;;
  exec) shift; node=$1; shift; mkdir -p "${dir}/node$5"; printf '%s' "$6" > "${dir}/node$5/hosts.toml" ;;
  network) [ -f "${dir}/connected" ] && { echo "Error response from daemon: endpoint with name kind-registry already exists in network kind" >&2; exit 1; }
           touch "${dir}/connected" ;;
esac`,
  );
});

describe('kind cluster set-up (stand-in kind and docker executables)', () => {
  it('starts a local registry, creates the cluster with the containerd patch, and wires every node to it', async () => {
    const reg = registryFor(5001);
    await setUpKindCluster(new KindCli(kind), {
      name: 'kindling',
      nodeImage: 'kindest/node:v1',
      registry: reg,
      docker,
    });
    expect(calls('docker')).toEqual([
      'inspect -f {{.State.Running}} kind-registry',
      'run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name kind-registry registry:2.8.3',
      expect.stringMatching(/^exec kindling-control-plane sh -c /),
      'network connect kind kind-registry',
    ]);
    const cfg = parse(readFileSync(join(dir, 'used-config.yaml'), 'utf8'));
    expect(cfg.containerdConfigPatches[0]).toContain('config_path = "/etc/containerd/certs.d"');
    expect(readFileSync(join(dir, 'node/etc/containerd/certs.d/localhost:5001/hosts.toml'), 'utf8')).toBe(
      '[host."http://kind-registry:5000"]\n',
    );
  });

  it('reuses a running registry and tolerates a network it has joined already', async () => {
    writeFileSync(join(dir, 'registry-state'), 'true\n');
    writeFileSync(join(dir, 'connected'), '');
    await setUpKindCluster(new KindCli(kind), {
      name: 'kindling',
      nodeImage: 'kindest/node:v1',
      registry: registryFor(5001),
      docker,
    });
    expect(calls('docker').filter((c) => c.startsWith('run '))).toEqual([]);
  });

  it('loads image archives after creating the cluster, and refuses a missing one before touching anything', async () => {
    const archive = join(dir, 'images.tar');
    writeFileSync(archive, 'tar');
    await setUpKindCluster(new KindCli(kind), {
      name: 'kindling',
      nodeImage: 'i',
      imageArchives: [archive],
      docker,
    });
    expect(calls('kind').slice(-1)).toEqual([`load image-archive ${archive} --name kindling`]);
    expect(calls('docker')).toEqual([]);

    writeFileSync(log, '');
    await expect(
      setUpKindCluster(new KindCli(kind), {
        name: 'kindling',
        nodeImage: 'i',
        imageArchives: [join(dir, 'nope.tar')],
      }),
    ).rejects.toThrow(UsageError);
    expect(calls('kind')).toEqual([]);
  });

  it('rejects a registry port out of range', () => {
    expect(() => registryFor(70000)).toThrow(/1-65535/);
  });
});
