/** `validate`: the one validity pass for a sizing, reported (exit 1 on errors, 0 with warnings). */
import type { ValidateResult } from '../manifests/validate.ts';
import { type Setting, speaking } from './settings.ts';

export interface ValidateSettings {
  catalog: Setting<string>;
  /** The kustomize overlay (the catalog's `render.overlays`); empty: `render.defaultProfile`. */
  sizing: Setting<string | undefined>;
}

const FLAGS = { catalog: '--catalog', sizing: '--sizing' } as const;

export async function validate(s: ValidateSettings): Promise<ValidateResult> {
  return speaking(s, FLAGS, async () => {
    const sizing = s.sizing.value || undefined;
    // kustomize first, so it renders on the other core while the checks load
    const { startEarlyRender } = await import('../manifests/early-render.ts');
    const early = startEarlyRender(s.catalog.value, sizing);
    const { validateStack } = await import('../manifests/validate.ts');
    return validateStack({ catalog: s.catalog.value, ...(sizing ? { profile: sizing } : {}), early });
  });
}
