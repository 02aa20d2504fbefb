import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import type { Stack } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';

const run = promisify(execFile);

/** A Kubernetes object as plain data. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** `kubectl kustomize` ran but rejected the kustomization (a manifest problem, not a missing tool). */
export class RenderError extends UsageError {
  readonly dir: string;
  readonly detail: string;
  constructor(dir: string, detail: string) {
    super(`kubectl kustomize ${dir} failed: ${detail}`);
    this.name = 'RenderError';
    this.dir = dir;
    this.detail = detail;
  }
}

/**
 * Renders a kustomization directory with the real `kubectl kustomize` (offline, kubectl >= 1.14).
 * Overlays live inside the base directory (`manifests/overlays/kind`) and list the base files
 * (`../../postgres.yaml`); kustomize only allows that with the load restrictor off.
 */
export async function kustomize(dir: string, signal?: AbortSignal): Promise<string> {
  if (!existsSync(resolve(dir, 'kustomization.yaml')) && !existsSync(resolve(dir, 'kustomization.yml'))) {
    throw new UsageError(`no kustomization.yaml in ${dir}`);
  }
  try {
    const { stdout } = await run('kubectl', ['kustomize', dir], {
      maxBuffer: 64 * 1024 * 1024,
      signal,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new UsageError(
        'kubectl is not installed: it is needed to render the kustomize overlays (kubectl kustomize)',
      );
    throw new RenderError(dir, kustomizeMessage(e.stderr ?? e.message));
  }
}

/** kubectl wraps kustomize's error in a klog line; keep only what kustomize said. */
export function kustomizeMessage(stderr: string): string {
  const text = stderr.trim();
  const m = /err="((?:[^"\\]|\\.)*)"/.exec(text);
  return (m ? m[1]!.replace(/\\(.)/g, '$1') : text).trim();
}

/**
 * Parses rendered multi-document YAML into objects. kustomize output is always valid YAML and
 * needs no positions, so the faster js-yaml reads it (about twice as fast as `yaml` here).
 */
export function parseRendered(text: string): KubeObject[] {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (err) {
    // only a hand-written --rendered file can get here; kustomize never writes invalid YAML
    throw new UsageError(`rendered manifests are not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return docs.filter(
    (o): o is KubeObject => o !== null && typeof o === 'object' && !Array.isArray(o),
  ) as KubeObject[];
}

/** The overlay directory for a sizing (`kind`, `production`). */
export function overlayDir(stack: Stack, sizing: string): string {
  const rel = Object.hasOwn(stack.render.overlays, sizing) ? stack.render.overlays[sizing] : undefined;
  if (rel === undefined) {
    throw new UsageError(
      `unknown sizing "${sizing}"; the catalog has ${Object.keys(stack.render.overlays).join(', ')}`,
      '--sizing',
    );
  }
  return resolve(stack.dir, rel);
}

/** A `kubectl kustomize` started before the catalog was fully read (see early-render.ts). */
export interface EarlyRender {
  /** The overlay directory it renders. */
  dir: string;
  output: Promise<string>;
  /** Stops it when the checked catalog names another directory, or none. */
  cancel: () => void;
}

/** Renders the whole stack for a sizing. */
export async function renderSizing(
  stack: Stack,
  sizing: string = stack.render.defaultSizing,
): Promise<KubeObject[]> {
  return parseRendered(await kustomize(overlayDir(stack, sizing)));
}
