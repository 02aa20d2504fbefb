// The kind wrapper with a stand-in `kind` executable on PATH (records its argv), and downloads
// served by a local HTTP server (one with a checksum that does not match).
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kindConfig } from '../../src/kind/config.ts';
import { installKind, parseChecksumFile, parseKindVersion } from '../../src/kind/install.ts';
import { KindCli } from '../../src/kind/kind.ts';
import { checkDocker, hostFindings, judgeDisk } from '../../src/kind/preflight.ts';
import {
  chooseKind,
  DEFAULT_KIND_VERSION,
  KIND_NODE_IMAGES,
  nodeImageFor,
  releaseAsset,
} from '../../src/kind/versions.ts';
import { runCli } from '../harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'kindling-kind-test-'));
const argvLog = join(dir, 'argv.log');
const standinKind = join(dir, 'kind');
writeFileSync(
  standinKind,
  `#!/bin/sh
# stand-in for kind: records argv, answers like kind v0.33.0
printf '%s\\n' "$*" >> "${argvLog}"
case "$1 $2" in
  "version ") echo "kind v0.33.0 go1.24.6 linux/amd64" ;;
  "get clusters") [ -f "${dir}/exists" ] && echo kindling; exit 0 ;;
  "get kubeconfig") printf 'apiVersion: v1\\nkind: Config\\nclusters: [{name: kind-kindling, cluster: {server: "https://127.0.0.1:41234"}}]\\n' ;;
  "create cluster") touch "${dir}/exists" ;;
  "delete cluster") rm -f "${dir}/exists" ;;
  "export logs") mkdir -p "$3" && echo "Exported logs to: $3" ;;
esac
`,
);
chmodSync(standinKind, 0o755);
const calls = () => readFileSync(argvLog, 'utf8').trim().split('\n');

describe('kind CLI wrapper (stand-in kind executable)', () => {
  it('creates from a generated config with the pinned node image, then skips an existing cluster', async () => {
    const kind = new KindCli(standinKind);
    const image = nodeImageFor(DEFAULT_KIND_VERSION)!;
    const first = await kind.create({ name: 'kindling', nodeImage: image, waitMs: 90_000 });
    expect(first.created).toBe(true);
    const create = calls().find((c) => c.startsWith('create cluster'))!;
    expect(create).toBe(`create cluster --name kindling --config ${first.configPath} --wait 90s`);
    const cfg = parse(readFileSync(first.configPath, 'utf8'));
    expect(cfg).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'kindling',
      nodes: [{ role: 'control-plane', image }],
    });
    const again = await kind.create({ name: 'kindling', nodeImage: image });
    expect(again.created).toBe(false);
    expect(calls().filter((c) => c.startsWith('create cluster'))).toHaveLength(1);
  });
  it('exports kubeconfig (0600) and logs, deletes by name', async () => {
    const kind = new KindCli(standinKind);
    const path = await kind.exportKubeconfig('kindling', join(dir, 'kubeconfig'));
    expect(readFileSync(path, 'utf8')).toMatch(/server: "https:\/\/127.0.0.1:41234"/);
    await kind.exportLogs('kindling', join(dir, 'logs'));
    await kind.delete('kindling');
    expect(calls().slice(-3)).toEqual([
      'get kubeconfig --name kindling',
      `export logs ${join(dir, 'logs')} --name kindling`,
      'delete cluster --name kindling',
    ]);
  });
  it('generates the local-registry containerd patch only when asked', () => {
    expect(kindConfig({ name: 'k', nodeImage: 'i' })).not.toMatch(/containerd/);
    expect(
      kindConfig({
        name: 'k',
        nodeImage: 'i',
        registry: { name: 'kind-registry', port: 5000, hostPort: 5001 },
      }),
    ).toMatch(/config_path = "\/etc\/containerd\/certs.d"/);
  });
});

describe('kind versions and node images', () => {
  it('pins a node image by digest for the default kind version, explicit image wins', () => {
    expect(nodeImageFor(DEFAULT_KIND_VERSION)).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
    expect(nodeImageFor('0.29.0')).toMatch(/v1\.33\.1@sha256:0500722/);
    expect(nodeImageFor('v0.1.0')).toBeUndefined();
    expect(nodeImageFor('v0.1.0', 'kindest/node:v1.30.0')).toBe('kindest/node:v1.30.0');
  });
  it('pins kind v0.31.0 to kindest/node:v1.35.0 at the digest of kubernetes-sigs/kind pkg/apis/config/defaults/image.go@v0.31.0', () => {
    expect(nodeImageFor('v0.31.0')).toBe(
      'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
    );
    // every pin is a released tag's default image (v0.33.0 is unreleased upstream: only v0.33.0-alpha)
    expect(Object.keys(KIND_NODE_IMAGES).sort()).toEqual(['v0.29.0', 'v0.30.0', 'v0.31.0', 'v0.32.0']);
    expect(KIND_NODE_IMAGES).toHaveProperty(DEFAULT_KIND_VERSION);
  });
  it('the Windows asset is kind-windows-amd64 with no .exe (kubernetes-sigs/kind hack/release/build/cross.sh)', () => {
    expect(releaseAsset('v0.31.0', 'win32', 'x64')).toMatchObject({
      file: 'kind-windows-amd64',
      url: 'https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-windows-amd64',
    });
    expect(releaseAsset('v0.31.0', 'darwin', 'arm64').file).toBe('kind-darwin-arm64');
  });
  it('chooseKind: a version without a pin is refused unless an image is given; an installed kind must match', () => {
    const names = { version: '--kind-version', image: '--node-image' };
    expect(chooseKind({ names })).toEqual({
      kindVersion: DEFAULT_KIND_VERSION,
      nodeImage: KIND_NODE_IMAGES[DEFAULT_KIND_VERSION],
    });
    expect(chooseKind({ requested: '0.31.0', names }).nodeImage).toMatch(/v1\.35\.0@sha256:452d707d/);
    expect(() => chooseKind({ requested: 'v0.99.0', names })).toThrow(
      /--kind-version: no node image is pinned for kind v0\.99\.0 .*set --node-image/,
    );
    expect(chooseKind({ requested: 'v0.99.0', nodeImage: 'kindest/node:v1.40.0@sha256:abc', names })).toEqual(
      {
        kindVersion: 'v0.99.0',
        nodeImage: 'kindest/node:v1.40.0@sha256:abc',
      },
    );
    expect(() => chooseKind({ requested: 'latest', names })).toThrow(
      /--kind-version: "latest" is not a kind release/,
    );
    expect(() => chooseKind({ requested: 'v0.31.0', installed: 'v0.30.0', names })).toThrow(
      /kind v0\.30\.0 is installed, but v0\.31\.0 was asked for/,
    );
    expect(() => chooseKind({ installed: 'v0.99.0', names })).toThrow(
      /no node image is pinned for kind v0\.99\.0/,
    );
  });
  it('kindling up refuses --kind-version without a pin, and a bad selection, before Docker or kind is asked', async () => {
    // PATH without docker/kind: reaching either would fail with another message
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const pin = await runCli(['up', '--kind-version', 'v0.99.0']);
      expect(pin.code).toBe(2);
      expect(pin.err).toMatch(/--kind-version: no node image is pinned for kind v0\.99\.0/);
      expect(pin.err).not.toMatch(/Docker/);
      const typo = await runCli(['up', '--profile', 'minimall']);
      expect(typo.code).toBe(2);
      expect(typo.err).toMatch(/minimall/);
      expect(typo.err).not.toMatch(/Docker/);
    } finally {
      process.env.PATH = path;
    }
  });
  it('parses `kind version` output and checksum files', () => {
    expect(parseKindVersion('kind v0.33.0 go1.24.6 linux/amd64')).toBe('v0.33.0');
    const h = 'a'.repeat(64);
    expect(parseChecksumFile(`${h}  kind-linux-amd64\n`, 'kind-linux-amd64')).toBe(h);
    expect(() => parseChecksumFile(`${h}  kind-darwin-arm64\n`, 'kind-linux-amd64')).toThrow(/no sha256/);
    expect(releaseAsset('0.33.0', 'linux', 'x64')).toEqual({
      file: 'kind-linux-amd64',
      url: 'https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64',
      checksumUrl:
        'https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64.sha256sum',
    });
  });
});

describe('installKind via @actions/tool-cache (local HTTP release server)', () => {
  let server: Server;
  let base = '';
  const binary = Buffer.from('#!/bin/sh\necho "kind v0.33.0 go1.24.6 linux/amd64"\n');
  const good = createHash('sha256').update(binary).digest('hex');
  const file = releaseAsset('v0.33.0').file;
  beforeAll(async () => {
    process.env.RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'kindling-rt-'));
    process.env.RUNNER_TOOL_CACHE = mkdtempSync(join(tmpdir(), 'kindling-tc-'));
    server = createServer((req, res) => {
      const [, , version, name] = (req.url ?? '').split('/');
      if (name === file) return res.end(binary);
      // v0.32.0 is published with a checksum of other bytes: a tampered or corrupted download
      if (name === `${file}.sha256sum`)
        return res.end(`${version === 'v0.32.0' ? 'b'.repeat(64) : good}  ${file}\n`);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dl`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('rejects a download whose sha256 does not match the published checksum, and caches nothing', async () => {
    await expect(installKind('v0.32.0', { baseUrl: base })).rejects.toThrow(
      /failed verification: sha256 [a-f0-9]{64} does not match the published b{64}/,
    );
    await expect(installKind('v0.32.0', { baseUrl: base })).rejects.toThrow(/failed verification/);
  });
  it('verifies, caches per version, and uses the cache the next time', async () => {
    const first = await installKind('0.33.0', { baseUrl: base });
    expect(first.source).toBe('download');
    expect(createHash('sha256').update(readFileSync(first.path)).digest('hex')).toBe(good);
    const second = await installKind('v0.33.0', { baseUrl: base });
    expect(second).toEqual({ ...first, source: 'cache' });
  });
  it('a missing release is a usage error naming the input', async () => {
    await expect(installKind('v9.9.9', { baseUrl: `${base}/missing` })).rejects.toThrow(
      /kind-version: cannot download kind v9.9.9/,
    );
  });
});

describe('preflight', () => {
  it('Docker missing or not reachable is a usage error that says Docker is needed', async () => {
    await expect(checkDocker(join(dir, 'no-such-docker'))).rejects.toMatchObject({
      exitCode: 2,
      message: /Docker is needed.*not installed/,
    });
    const fakeDocker = join(dir, 'docker');
    writeFileSync(
      fakeDocker,
      '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n',
    );
    chmodSync(fakeDocker, 0o755);
    await expect(checkDocker(fakeDocker)).rejects.toMatchObject({
      exitCode: 2,
      message: /Docker is needed.*Cannot connect to the Docker daemon/,
    });
  });
  it('warns on low disk (under 10 GiB), naming what is free', () => {
    expect(judgeDisk(50 * 1024 ** 3)).toEqual([]);
    expect(judgeDisk(undefined)).toEqual([]);
    expect(judgeDisk(3 * 1024 ** 3).map((x) => x.message)).toEqual([
      expect.stringMatching(/^only 3\.0 GiB free for Docker/),
    ]);
  });
  it('host findings: no kernel setting is judged unless a selected component needs it (catalog host.sysctls)', async () => {
    const none = await hostFindings([]);
    expect(none.filter((f) => f.message.includes('sysctl'))).toEqual([]);
    // a need this machine cannot meet (the kernel's maximum is far below): named with its component
    const needs = await hostFindings([
      { component: 'search', key: 'vm.max_map_count', min: Number.MAX_SAFE_INTEGER },
    ]);
    expect(needs.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^vm\.max_map_count is \d+; search needs/),
    );
  });
});
