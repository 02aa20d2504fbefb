/**
 * kind releases and the node image each was built and tested with. kind only guarantees a node image
 * at the exact digest published in its release notes, so the default pairs a kind version with its
 * own default image (release notes of kubernetes-sigs/kind).
 */
export const DEFAULT_KIND_VERSION = 'v0.33.0';

export const KIND_NODE_IMAGES: Record<string, string> = {
  'v0.33.0': 'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5',
  'v0.32.0': 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
  'v0.30.0': 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  'v0.29.0': 'kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f',
};

/** `v0.33.0` from `0.33.0` or `v0.33.0`. */
export const normaliseVersion = (v: string): string => (v.startsWith('v') ? v : `v${v}`);

/** The node image for a kind version: an explicit one wins; otherwise the version's own default. */
export function nodeImageFor(kindVersion: string, explicit?: string): string | undefined {
  return explicit || KIND_NODE_IMAGES[normaliseVersion(kindVersion)];
}

/** Where kind publishes a release binary and its checksum file (`<sha256>  kind-linux-amd64`). */
export function releaseAsset(
  version: string,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
) {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'amd64' : arch;
  const file = `kind-${os}-${cpu}${platform === 'win32' ? '.exe' : ''}`;
  const base = `https://github.com/kubernetes-sigs/kind/releases/download/${normaliseVersion(version)}`;
  return { file, url: `${base}/${file}`, checksumUrl: `${base}/${file}.sha256sum` };
}
