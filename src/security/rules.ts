import type { Stack } from '../catalog/types.ts';
import type { Locator } from '../manifests/locate.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Problem } from '../util/problem.ts';
import { lineAt, type SourceDoc } from '../util/yaml-source.ts';
import { hardeningViolations } from './hardening.ts';
import { type Place, reachability, type Violation } from './matrix.ts';

/**
 * `kindling validate`'s security rules for one sizing: the rendered NetworkPolicies allow every
 * catalog edge and nothing else (rule `network-policy`), and the hardening of replicated workloads
 * under the strict sizings (rule `hardening`). Every problem points at the file and line to edit.
 */
export function securityProblems(
  stack: Stack,
  catalog: SourceDoc,
  objects: readonly KubeObject[],
  sizing: string,
  locator: Locator,
): Problem[] {
  const unknown = catalogReferences(stack);
  if (unknown.length) return unknown.map((v) => place(stack, catalog, locator, 'catalog', v));
  const out: Problem[] = [];
  if (stack.policy.network)
    for (const v of reachability(stack, objects).violations)
      out.push(place(stack, catalog, locator, 'network-policy', v));
  if (stack.policy.hardening && stack.policy.strictSizings.includes(sizing))
    for (const v of hardeningViolations(stack, objects))
      out.push(place(stack, catalog, locator, 'hardening', v));
  return out;
}

function place(stack: Stack, catalog: SourceDoc, locator: Locator, rule: string, v: Violation): Problem {
  const at: Place = v.at;
  if ('catalog' in at)
    return {
      severity: 'error',
      file: stack.file,
      line: lineAt(catalog, at.catalog),
      rule,
      message: v.message,
    };
  const loc = locator.locate(at.object, at.path);
  return { severity: 'error', file: loc.file, line: loc.line, rule, message: v.message };
}

/** Components named under policy.network / policy.hardening must exist. */
function catalogReferences(stack: Stack): Violation[] {
  const out: Violation[] = [];
  const check = (name: string, path: (string | number)[]) => {
    if (!Object.hasOwn(stack.components, name))
      out.push({ message: `${path.join('.')} names unknown component "${name}"`, at: { catalog: path } });
  };
  const net = stack.policy.network;
  if (net?.metricsScraper)
    check(net.metricsScraper.component, ['policy', 'network', 'metricsScraper', 'component']);
  net?.clientNamespaces.forEach((n, i) => {
    n.components.forEach((c, j) => {
      check(c, ['policy', 'network', 'clientNamespaces', i, 'components', j]);
    });
  });
  net?.connections.forEach((k, i) => {
    check(k.from, ['policy', 'network', 'connections', i, 'from']);
    check(k.to, ['policy', 'network', 'connections', i, 'to']);
  });
  stack.policy.hardening?.quorum.forEach((c, i) => {
    check(c, ['policy', 'hardening', 'quorum', i]);
  });
  return out;
}
