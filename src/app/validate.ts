/**
 * `validate`: the one validity pass for a sizing (manifests, schema, references, policy, the
 * catalog), plus every check's and backup's parameter rules — what verify and backup would refuse.
 */
import { readCatalog } from '../catalog/load.ts';
import type { ValidateResult } from '../manifests/validate.ts';
import { parameterProblems } from './catalog.ts';
import { type Setting, speaking } from './settings.ts';

export interface ValidateSettings {
  catalog: Setting<string>;
  /** The kustomize overlay (the catalog's `render.overlays`); empty: `render.defaultSizing`. */
  sizing: Setting<string | undefined>;
}

const FLAGS = { catalog: '--catalog', sizing: '--sizing' } as const;

export async function validate(s: ValidateSettings): Promise<ValidateResult> {
  return speaking(s, FLAGS, async () => {
    const sizing = s.sizing.value || undefined;
    // kustomize first, so it renders on the other core while the checks load
    const { startEarlyRender } = await import('../manifests/early-render.ts');
    const early = startEarlyRender(s.catalog.value, sizing);
    const { validateStack, sortProblems } = await import('../manifests/validate.ts');
    const result = await validateStack({
      catalog: s.catalog.value,
      ...(sizing ? { sizing } : {}),
      early,
    });
    const { stack } = readCatalog(s.catalog.value);
    if (!stack) return result;
    return { ...result, problems: sortProblems([...result.problems, ...parameterProblems(stack)]) };
  });
}
