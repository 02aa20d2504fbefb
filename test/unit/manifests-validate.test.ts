/**
 * The real stack through `kindling validate` (real `kubectl kustomize`), both sizings: no errors
 * apart from the seed's default credentials, which the strict production sizing reports until real
 * secrets are written (manifests/README.md). Each class rule of issue #11 must find nothing here.
 */
import { expect, it } from 'vitest';
import { validateStack } from '../../src/manifests/validate.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const CLASS_RULES = ['ownership', 'service-links', 'data-dir'];

describeWithKubectl('the real stack validates clean', () => {
  for (const sizing of ['kind', 'production'])
    it(`${sizing}: no errors but the seed's default credentials; nothing from ${CLASS_RULES.join(', ')}`, async () => {
      const r = await validateStack({ catalog: 'manifests/stack.yaml', sizing });
      const show = (p: (typeof r.problems)[number]) => `${p.file}:${p.line} ${p.message} [${p.rule}]`;
      expect(r.problems.filter((p) => CLASS_RULES.includes(p.rule)).map(show)).toEqual([]);
      expect(
        r.problems.filter((p) => p.severity === 'error' && p.rule !== 'default-credential').map(show),
      ).toEqual([]);
      expect(r.rendered).toBe(true);
    });
});
