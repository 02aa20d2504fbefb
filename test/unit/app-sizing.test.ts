// The sizing and --rendered rules plan, deploy and upgrade share (src/app/sizing.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromFlag, fromInput } from '../../src/app/settings.ts';
import { checkSizing, readRendered } from '../../src/app/sizing.ts';
import { loadStack } from '../../src/catalog/load.ts';

const stack = loadStack('manifests/stack.yaml');
const dir = mkdtempSync(join(tmpdir(), 'kindling-sizing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkSizing', () => {
  it("takes the catalog's render.defaultSizing when none is given", () => {
    expect(checkSizing(stack, fromFlag('--sizing', undefined))).toBe(stack.render.defaultSizing);
    expect(checkSizing(stack, fromFlag('--sizing', '  '))).toBe(stack.render.defaultSizing);
    expect(checkSizing(stack, fromFlag('--sizing', 'production'))).toBe('production');
  });
  it('refuses a sizing that is not an overlay, naming the flag or the action input and the overlays', () => {
    expect(() => checkSizing(stack, fromFlag('--sizing', 'prod'))).toThrow(
      /--sizing: unknown sizing "prod"; the catalog has kind, production/,
    );
    expect(() => checkSizing(stack, fromInput('sizing', 'prod'))).toThrow(
      /input "sizing".*unknown sizing "prod"/,
    );
  });
});

describe('readRendered', () => {
  it('is undefined without a file, the objects with one', () => {
    expect(readRendered(undefined)).toBeUndefined();
    expect(readRendered(fromFlag('--rendered', undefined))).toBeUndefined();
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: b }\n',
    );
    expect(readRendered(fromFlag('--rendered', file))?.map((o) => o.kind)).toEqual(['ConfigMap', 'Secret']);
  });
  it('names the setting for a missing or unparsable file', () => {
    expect(() => readRendered(fromFlag('--rendered', join(dir, 'none.yaml')))).toThrow(
      /--rendered: no such file/,
    );
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: [unclosed\n');
    expect(() => readRendered(fromInput('rendered', bad))).toThrow(/input "rendered"/);
  });
});
