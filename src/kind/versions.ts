/**
 * kind releases and the node image each was built and tested with. kind only guarantees a node image
 * at the exact digest its release pins ("We only support that node images will create a working
 * Kubernetes node ... with the kind version they were released with", kind.sigs.k8s.io/docs/design/
 * node-image), so a kind version is paired with its own default image, read from
 * kubernetes-sigs/kind `pkg/apis/config/defaults/image.go` at the release tag.
 */
import { UsageError } from '../util/errors.ts';

/** The newest release tag upstream (kubernetes-sigs/kind: v0.32.0; HEAD is v0.33.0-alpha). */
export const DEFAULT_KIND_VERSION = 'v0.32.0';

/** `const Image` of `pkg/apis/config/defaults/image.go` at each tag, copied digit for digit. */
export const KIND_NODE_IMAGES: Record<string, string> = {
  'v0.32.0': 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
  'v0.31.0': 'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
  'v0.30.0': 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  'v0.29.0': 'kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f',
};

/** `v0.33.0` from `0.33.0` or `v0.33.0`. */
export const normaliseVersion = (v: string): string => (v.startsWith('v') ? v : `v${v}`);

/** The node image for a kind version: an explicit one wins; otherwise the version's own default. */
export function nodeImageFor(kindVersion: string, explicit?: string): string | undefined {
  return explicit || KIND_NODE_IMAGES[normaliseVersion(kindVersion)];
}

export interface KindChoice {
  /** The kind version asked for (flag/input), if any. */
  requested?: string;
  /** The version of the kind binary that will run, when already known (kind on PATH). */
  installed?: string;
  /** An explicit node image (flag/input). */
  nodeImage?: string;
  /** How the face names its settings in messages: `--kind-version` or `input "kind-version"`. */
  names: { version: string; image: string };
}

/**
 * The one decision both `kindling up` and the deploy action make before anything is created: which
 * kind version and node image. A version without a pinned image is refused (exit 2) unless an image
 * is given: another release's image is not supported by that kind. Pure.
 */
export function chooseKind(c: KindChoice): { kindVersion: string; nodeImage: string } {
  const requested = c.requested?.trim() || undefined;
  if (requested && !/^v?\d+\.\d+\.\d+$/.test(requested))
    throw new UsageError(
      `"${requested}" is not a kind release (expected vX.Y.Z, e.g. ${DEFAULT_KIND_VERSION})`,
      c.names.version,
    );
  const image = c.nodeImage?.trim() || undefined;
  if (image && /\s/.test(image)) throw new UsageError(`"${image}" is not an image reference`, c.names.image);
  const installed = c.installed && /^v\d+\.\d+\.\d+$/.test(c.installed) ? c.installed : undefined;
  if (requested && installed && normaliseVersion(requested) !== installed)
    throw new UsageError(
      `kind ${installed} is installed, but ${normaliseVersion(requested)} was asked for: install kind ${normaliseVersion(requested)} or drop ${c.names.version}`,
      c.names.version,
    );
  const kindVersion = normaliseVersion(requested ?? installed ?? DEFAULT_KIND_VERSION);
  const nodeImage = image ?? KIND_NODE_IMAGES[kindVersion];
  if (!nodeImage)
    throw new UsageError(
      `no node image is pinned for kind ${kindVersion} (pinned: ${Object.keys(KIND_NODE_IMAGES).join(', ')}); set ${c.names.image} to the kindest/node:vX.Y.Z@sha256:… image of the kind ${kindVersion} release notes`,
      c.names.version,
    );
  return { kindVersion, nodeImage };
}

/**
 * Where kind publishes a release binary and its checksum file (`<sha256>  kind-linux-amd64`). The
 * names are `kind-${GOOS}-${GOARCH}` for every platform, Windows included, with no `.exe`
 * (kubernetes-sigs/kind `hack/release/build/cross.sh`: `KIND_BINARY_NAME=kind-${GOOS}-${GOARCH}`).
 */
export function releaseAsset(
  version: string,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
) {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'amd64' : arch;
  const file = `kind-${os}-${cpu}`;
  const base = `https://github.com/kubernetes-sigs/kind/releases/download/${normaliseVersion(version)}`;
  return { file, url: `${base}/${file}`, checksumUrl: `${base}/${file}.sha256sum` };
}
