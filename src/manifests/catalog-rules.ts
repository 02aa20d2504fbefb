import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Stack } from '../catalog/types.ts';
import type { Problem } from '../util/problem.ts';
import { lineAt, type SourceDoc } from '../util/yaml-source.ts';
import type { Locator } from './locate.ts';
import { asArray, isRecord } from './objects.ts';
import type { KubeObject } from './render.ts';

/**
 * What the catalog promises about the manifests: every component's files exist and are rendered,
 * and its workloads and Service ports are in the rendered set, written in the component's files.
 */
export function catalogFindings(
  stack: Stack,
  catalog: SourceDoc,
  objects: readonly KubeObject[],
  renderedFiles: ReadonlySet<string>,
  locator: Locator,
): Problem[] {
  const out: Problem[] = [];
  const err = (path: (string | number)[], rule: string, message: string) =>
    out.push({ severity: 'error', file: stack.file, line: lineAt(catalog, path), rule, message });
  const find = (kind: string, name: string) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (o.metadata.namespace ?? stack.namespace) === stack.namespace,
    );

  const checkFiles = (files: readonly string[], path: (string | number)[], owner: string) =>
    files.forEach((m, i) => {
      const abs = resolve(stack.dir, m);
      if (!existsSync(abs))
        err([...path, i], 'catalog-manifest', `${owner} lists manifest ${m}, which does not exist`);
      else if (!renderedFiles.has(abs))
        err(
          [...path, i],
          'catalog-manifest',
          `${owner} lists manifest ${m}, which the kustomization does not include, so it is never rendered`,
        );
    });
  checkFiles(stack.shared.manifests, ['shared', 'manifests'], 'shared');

  for (const c of Object.values(stack.components)) {
    const base = ['components', c.name];
    checkFiles(c.manifests, [...base, 'manifests'], `component "${c.name}"`);
    const own = new Set(c.manifests.map((m) => resolve(stack.dir, m)));
    c.workloads.forEach((w, i) => {
      const o = find(w.kind, w.name);
      if (!o) {
        err(
          [...base, 'workloads', i],
          'catalog-workload',
          `component "${c.name}" names ${w.kind} ${w.name}, which is not in the rendered manifests`,
        );
        return;
      }
      const src = locator.source(o);
      if (src && !own.has(resolve(src.file)))
        err(
          [...base, 'workloads', i],
          'catalog-workload',
          `component "${c.name}" names ${w.kind} ${w.name}, which is written in ${src.file}, not in its manifests (${c.manifests.join(', ')})`,
        );
    });
    c.services.forEach((s, i) => {
      const svc = find('Service', s.name);
      if (!svc) {
        err(
          [...base, 'services', i],
          'catalog-service',
          `component "${c.name}" names Service ${s.name}, which is not in the rendered manifests`,
        );
        return;
      }
      const ports = new Set(
        asArray(isRecord(svc.spec) ? svc.spec.ports : undefined).map((p) =>
          isRecord(p) ? p.port : undefined,
        ),
      );
      s.ports.forEach((port, j) => {
        if (!ports.has(port))
          err(
            [...base, 'services', i, 'ports', j],
            'catalog-service',
            `component "${c.name}" expects port ${port} on Service ${s.name}, which has ${[...ports].join(', ') || 'no ports'}`,
          );
      });
    });
  }
  return out;
}
