/** The kind CLI: create, delete, kubeconfig, export logs, load images. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailedError } from '../util/errors.ts';
import { type KindConfigOptions, kindConfig } from './config.ts';
import { run } from './run.ts';

export class KindCli {
  readonly binary: string;
  constructor(binary = 'kind') {
    this.binary = binary;
  }

  async clusters(): Promise<string[]> {
    const { stdout } = await run(this.binary, ['get', 'clusters'], { timeoutMs: 30_000 });
    return stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** Creates the cluster from a generated config, unless one of that name exists already. */
  async create(
    opts: KindConfigOptions & { waitMs?: number },
  ): Promise<{ created: boolean; configPath: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'kindling-kind-'));
    const configPath = join(dir, 'kind-config.yaml');
    await writeFile(configPath, kindConfig(opts));
    if ((await this.clusters()).includes(opts.name)) return { created: false, configPath };
    const wait = `${Math.round((opts.waitMs ?? 120_000) / 1000)}s`;
    try {
      await run(this.binary, [
        'create',
        'cluster',
        '--name',
        opts.name,
        '--config',
        configPath,
        '--wait',
        wait,
      ]);
    } catch (err) {
      throw new FailedError(`kind create cluster ${opts.name} failed: ${(err as Error).message}`);
    }
    return { created: true, configPath };
  }

  async delete(name: string): Promise<void> {
    await run(this.binary, ['delete', 'cluster', '--name', name], { timeoutMs: 180_000 });
  }

  /** The cluster's kubeconfig (external address), written to `path`. */
  async exportKubeconfig(name: string, path: string): Promise<string> {
    const { stdout } = await run(this.binary, ['get', 'kubeconfig', '--name', name], { timeoutMs: 30_000 });
    await writeFile(path, stdout, { mode: 0o600 });
    return path;
  }

  async exportLogs(name: string, dir: string): Promise<void> {
    await run(this.binary, ['export', 'logs', dir, '--name', name], { timeoutMs: 300_000 });
  }

  /** The node containers of a cluster (`kind get nodes`). */
  async nodes(name: string): Promise<string[]> {
    const { stdout } = await run(this.binary, ['get', 'nodes', '--name', name], { timeoutMs: 30_000 });
    return stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  async loadImageArchive(name: string, archive: string): Promise<void> {
    await run(this.binary, ['load', 'image-archive', archive, '--name', name], { timeoutMs: 600_000 });
  }
}
