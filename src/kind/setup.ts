/**
 * One kind cluster set-up for `kindling up` and the deploy action: optional local registry,
 * create from the generated config, optional pre-loaded image archives (a warm image cache is
 * the main start-up speed lever on CI runners).
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../util/errors.ts';
import type { KindCli } from './kind.ts';
import { ensureRegistry, type Registry, wireRegistry } from './registry.ts';

export interface KindSetup {
  name: string;
  nodeImage: string;
  registry?: Registry;
  /** `docker save` tarballs to load into the nodes (`kind load image-archive`). */
  imageArchives?: readonly string[];
  docker?: string;
  log?: (message: string) => void;
}

export async function setUpKindCluster(cli: KindCli, setup: KindSetup): Promise<{ created: boolean }> {
  const log = setup.log ?? (() => {});
  const docker = setup.docker ?? 'docker';
  const missing = (setup.imageArchives ?? []).filter((a) => !existsSync(a));
  if (missing.length) throw new UsageError(`image archive(s) not found: ${missing.join(', ')}`);
  if (setup.registry)
    log(`local registry ${setup.registry.name}: ${await ensureRegistry(setup.registry, docker)}`);
  const { created } = await cli.create({
    name: setup.name,
    nodeImage: setup.nodeImage,
    ...(setup.registry ? { registry: setup.registry } : {}),
  });
  log(created ? `created cluster ${setup.name}` : `using existing cluster ${setup.name}`);
  if (setup.registry) {
    await wireRegistry(setup.registry, await cli.nodes(setup.name), docker);
    log(`nodes pull localhost:${setup.registry.hostPort}/… from ${setup.registry.name}`);
  }
  for (const archive of setup.imageArchives ?? []) {
    await cli.loadImageArchive(setup.name, archive);
    log(`loaded ${archive}`);
  }
  return { created };
}
