/**
 * Finds or installs the `kind` binary. In Actions: downloaded with @actions/tool-cache, verified
 * against the release's published sha256, cached per version. Locally: from PATH.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tc from '@actions/tool-cache';
import { FailedError, UsageError } from '../util/errors.ts';
import { run } from './run.ts';
import { normaliseVersion, releaseAsset } from './versions.ts';

export interface KindBinary {
  path: string;
  version: string;
  source: 'path' | 'cache' | 'download';
}

/** `kind v0.33.0 go1.24.2 linux/amd64` → `v0.33.0`. */
export function parseKindVersion(text: string): string | undefined {
  return text.match(/\bv\d+\.\d+\.\d+(?:-[\w.]+)?\b/)?.[0];
}

/** `<hex>  kind-linux-amd64` → hex. */
export function parseChecksumFile(text: string, file: string): string {
  for (const line of text.split('\n')) {
    const [hash, name] = line.trim().split(/\s+/);
    if (hash && /^[a-f0-9]{64}$/i.test(hash) && (!name || name.replace(/^\*/, '') === file))
      return hash.toLowerCase();
  }
  throw new FailedError(`the checksum file for ${file} has no sha256 for it`);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Local use: `kind` from PATH. */
export async function findKindOnPath(kind = 'kind'): Promise<KindBinary> {
  try {
    const { stdout } = await run(kind, ['version'], { timeoutMs: 10_000 });
    return { path: kind, version: parseKindVersion(stdout) ?? 'unknown', source: 'path' };
  } catch {
    throw new UsageError(
      'kind is not installed: install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) or use --kubeconfig for an existing cluster',
    );
  }
}

/** Actions: tool cache hit, or download + verify + cache. `baseUrl` overrides the release URL (tests). */
export async function installKind(version: string, opts: { baseUrl?: string } = {}): Promise<KindBinary> {
  const v = normaliseVersion(version);
  const cached = tc.find('kind', v.slice(1));
  const asset = releaseAsset(v);
  // the asset has no .exe (cross.sh); Windows only runs it under an executable name
  const exe = process.platform === 'win32' ? 'kind.exe' : 'kind';
  if (cached) return { path: join(cached, exe), version: v, source: 'cache' };
  const url = opts.baseUrl ? `${opts.baseUrl}/${v}/${asset.file}` : asset.url;
  const sumUrl = `${url}.sha256sum`;
  let binary: string;
  let sums: string;
  try {
    binary = await tc.downloadTool(url);
    sums = await readFile(await tc.downloadTool(sumUrl), 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot download kind ${v} (${(err as Error).message}); check the kind-version input`,
      'kind-version',
    );
  }
  const expected = parseChecksumFile(sums, asset.file);
  const actual = await sha256File(binary);
  if (actual !== expected)
    throw new FailedError(
      `kind ${v} download failed verification: sha256 ${actual} does not match the published ${expected}`,
    );
  await chmod(binary, 0o755);
  const dir = await tc.cacheFile(binary, exe, 'kind', v.slice(1));
  return { path: join(dir, exe), version: v, source: 'download' };
}
