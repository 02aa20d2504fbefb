import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startEarlyRender } from '../../src/manifests/early-render.ts';
import type { EarlyRender } from '../../src/manifests/render.ts';
import { validateStack } from '../../src/manifests/validate.ts';
import { UsageError } from '../../src/util/errors.ts';
import { describeWithKubectl, GOOD } from './validate-helpers.ts';

const CATALOG = `${GOOD}/stack.yaml`;
const scratch = mkdtempSync(join(tmpdir(), 'kindling-early-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The early render, recording whether validateStack cancelled it. */
function watched(sizing?: string): { early: EarlyRender; cancelled: () => boolean } {
  const early = startEarlyRender(CATALOG, sizing);
  if (!early) throw new Error('no early render for the good fixture');
  let cancelled = false;
  return {
    early: {
      ...early,
      cancel: () => {
        cancelled = true;
        early.cancel();
      },
    },
    cancelled: () => cancelled,
  };
}

describeWithKubectl('validate: kustomize started before the catalog is read in full', () => {
  it("renders the sizing's overlay, or the default sizing's without --sizing", () => {
    expect(startEarlyRender(CATALOG, 'production')?.dir).toBe(resolve(GOOD, 'overlays/production'));
    expect(startEarlyRender(CATALOG)?.dir).toBe(resolve(GOOD, 'overlays/kind'));
  });

  it('is adopted when the checked catalog names the same overlay: the same result as without it', async () => {
    const w = watched('production');
    const withEarly = await validateStack({ catalog: CATALOG, sizing: 'production', early: w.early });
    const without = await validateStack({ catalog: CATALOG, sizing: 'production' });
    expect(w.cancelled()).toBe(false);
    expect(withEarly).toEqual(without);
    expect(withEarly.rendered).toBe(true);
  });

  it('is cancelled, and kustomize run again, when it rendered another overlay', async () => {
    const w = watched('kind');
    const r = await validateStack({ catalog: CATALOG, sizing: 'production', early: w.early });
    expect(w.cancelled()).toBe(true);
    expect(r).toEqual(await validateStack({ catalog: CATALOG, sizing: 'production' }));
  });

  it('is cancelled when validate stops with a usage error (unknown sizing)', async () => {
    const w = watched('kind');
    await expect(validateStack({ catalog: CATALOG, sizing: 'nope', early: w.early })).rejects.toThrow(
      UsageError,
    );
    expect(w.cancelled()).toBe(true);
  });
});

it('starts nothing when the catalog is missing, a directory, not YAML, or lacks the sizing', () => {
  const notYaml = join(scratch, 'bad.yaml');
  writeFileSync(notYaml, 'render: [unclosed\n');
  const noSizing = join(scratch, 'stack.yaml');
  writeFileSync(noSizing, 'render:\n  overlays:\n    kind: overlays/kind\n');
  expect(startEarlyRender(join(scratch, 'missing.yaml'))).toBeUndefined();
  expect(startEarlyRender(scratch)).toBeUndefined();
  expect(startEarlyRender(notYaml)).toBeUndefined();
  expect(startEarlyRender(noSizing, 'production')).toBeUndefined();
  expect(startEarlyRender(noSizing, 'constructor')).toBeUndefined();
});
