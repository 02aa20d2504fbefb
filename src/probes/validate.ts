import { readFileSync } from 'node:fs';
import type { Stack } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';
import { formatProblem, type Problem } from '../util/problem.ts';
import { lineAt, parseYamlSource, type SourceDoc } from '../util/yaml-source.ts';
import { probes } from './registry.ts';

/**
 * Checks every check's parameters against its type, each problem with the catalog line of the
 * offending key. `text` is the catalog source (read from `stack.file` when omitted).
 */
export function checkProblems(stack: Stack, text?: string): Problem[] {
  const src = sourceOf(stack, text);
  const line = (path: (string | number)[]) => (src ? lineAt(src, path) : stack.lines[String(path[1])]);
  const problems: Problem[] = [];
  for (const c of Object.values(stack.components)) {
    c.checks.forEach((check, i) => {
      const at = ['components', c.name, 'checks', i];
      const probe = probes[check.type];
      if (!probe) {
        problems.push({
          severity: 'error',
          file: stack.file,
          line: line([...at, 'type']),
          rule: 'check-params',
          message: `check "${check.name}" of "${c.name}" has unknown type "${check.type}"; types: ${Object.keys(probes).join(', ')}`,
        });
        return;
      }
      if (check.settles !== undefined && typeof check.settles !== 'boolean')
        problems.push({
          severity: 'error',
          file: stack.file,
          line: line([...at, 'settles']),
          rule: 'check-params',
          message: `check "${check.name}" of "${c.name}": "settles" must be true or false`,
        });
      if (probe.usesEndpoint && c.endpoints.length === 0)
        problems.push({
          severity: 'error',
          file: stack.file,
          line: line(at),
          rule: 'check-params',
          message: `check "${check.name}" of "${c.name}" needs an endpoint and the component has none`,
        });
      if (!probe.usesEndpoint && check.target === 'local')
        problems.push({
          severity: 'error',
          file: stack.file,
          line: line([...at, 'target']),
          rule: 'check-params',
          message: `check "${check.name}" of "${c.name}": ${check.type} checks run only on target kube`,
        });
      for (const p of probe.validate(check))
        problems.push({
          severity: 'error',
          file: stack.file,
          line: line([...at, ...p.path]),
          rule: 'check-params',
          message: `check "${check.name}" of "${c.name}": ${p.path.join('.')}: ${p.message}`,
        });
    });
  }
  return problems;
}

/** Throws one UsageError listing every check-parameter problem (exit 2). */
export function assertChecksValid(stack: Stack, text?: string): void {
  const problems = checkProblems(stack, text);
  if (problems.length)
    throw new UsageError(
      `invalid checks in the catalog:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
}

function sourceOf(stack: Stack, text?: string): SourceDoc | undefined {
  try {
    const t = text ?? readFileSync(stack.file, 'utf8');
    return parseYamlSource(stack.file, t).docs[0];
  } catch {
    return undefined;
  }
}
