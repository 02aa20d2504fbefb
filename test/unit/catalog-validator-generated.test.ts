import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { catalogValidatorSource, VALIDATOR_FILE } from '../../scripts/gen-catalog-validator.ts';
import { catalogSchema } from '../../src/catalog/schema.ts';
import { validate } from '../../src/catalog/schema-validator.generated.js';

/** The URLs a fresh Node process resolves while importing `spec` (module.registerHooks sees import and require). */
function resolvedUrls(spec: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
    await import(${JSON.stringify(spec)});
    process.stdout.write(JSON.stringify(seen));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}
const ajvCore = (urls: string[]) => urls.filter((u) => /node_modules\/ajv\/dist\/(core|ajv)\.js$/.test(u));

describe('the generated catalog validator', () => {
  it('is what npm run gen:catalog-validator writes from src/catalog/schema.ts', () => {
    const fresh = readFileSync(VALIDATOR_FILE, 'utf8') === catalogValidatorSource();
    expect(fresh, `${VALIDATOR_FILE} is out of date: run npm run gen:catalog-validator`).toBe(true);
  });

  it('gives the errors a run-time compile with the same options gives', () => {
    const compiled = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(
      catalogSchema,
    );
    const bad: unknown[] = [
      {},
      { apiVersion: 'v1', kind: 'Stack', namespace: 'Bad_Name', render: {}, profiles: [], components: {} },
      {
        apiVersion: 'kindling.dev/v1alpha1',
        kind: 'Stack',
        namespace: 'ns',
        render: { base: 'b', overlays: { kind: 'k' } },
        policy: { defaultCredentials: [''], hardening: { spreadTopologyKey: '' }, extra: 1 },
        profiles: { all: ['a'] },
        components: { a: { group: 'g', manifests: ['m'], workloads: [{ kind: 'Pod', name: 'x' }] } },
      },
    ];
    for (const doc of bad) {
      expect(validate(doc)).toBe(false);
      compiled(doc);
      expect(validate.errors).toEqual(compiled.errors);
    }
    // the minLength errors above came from ajv's ucs2length, imported by the generated module
    expect(validate.errors?.filter((e) => e.keyword === 'minLength')).toHaveLength(2);
    const good = {
      ...(bad[2] as object),
      policy: { defaultCredentials: ['\u{1F600}'] },
      components: { a: { group: 'g', manifests: ['m'], workloads: [{ kind: 'Job', name: 'x' }] } },
    };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(compiled(good)).toBe(true);
  });

  it('loading src/catalog/load.ts does not load ajv', () => {
    const urls = resolvedUrls('./src/catalog/load.ts');
    expect(urls.some((u) => u.endsWith('/src/catalog/schema-validator.generated.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/node_modules/ajv/dist/runtime/ucs2length.js'))).toBe(true);
    expect(ajvCore(urls)).toEqual([]);
    // the hook does see ajv's own requires: importing ajv records its core
    expect(ajvCore(resolvedUrls('ajv')).length).toBeGreaterThan(0);
  });
});
