import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEvents } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { documentRegions } from '../../src/manifests/doc-regions.ts';
import type { Path } from '../../src/manifests/findings.ts';
import { matchPath } from '../../src/manifests/locate.ts';
import { readLazily } from '../../src/manifests/sources.ts';
import { parseYamlSource } from '../../src/util/yaml-source.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const yamlFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
const FILES = [...yamlFiles(join(ROOT, 'manifests')), ...yamlFiles(join(ROOT, 'test/fixtures/validate'))];

/** Every path into a value: the places a finding can point at. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

describe('positions from one document parsed on its own', () => {
  it('splits every real and fixture manifest (so validate takes the fast path on them)', () => {
    const multi = FILES.filter((f) => readFileSync(f, 'utf8').includes('\n---'));
    expect(multi.length).toBeGreaterThan(5);
    for (const f of multi) {
      const text = readFileSync(f, 'utf8');
      expect(documentRegions(text, parseEvents(text, {})), f).toBeDefined();
    }
  });

  it('gives every path the line the whole-file parse gives', () => {
    let compared = 0;
    for (const f of FILES) {
      const text = readFileSync(f, 'utf8');
      const docs = readLazily(f, text, []);
      const whole = parseYamlSource(f, text).docs;
      docs.forEach((d, i) => {
        const w = whole[i]!;
        expect(d.src.line, `${f} document ${i}`).toBe(w.line);
        for (const p of paths(d.value)) {
          expect(matchPath(d.src, d.value, p), `${f} document ${i} ${p.join('.')}`).toEqual(
            matchPath(w, d.value, p),
          );
          compared++;
        }
      });
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('falls back to the whole file where the split is uncertain', () => {
    const cases = [
      'a: 1\n...\nb: 2\n', // a bare document after an end marker
      '%YAML 1.2\n---\na: 1\n---\nb: 2\n', // a directive
    ];
    for (const text of cases) expect(documentRegions(text, parseEvents(text, {}))).toBeUndefined();
    const text = 'a: 1\n---\nb:\n  - c\n---\n\n# note\nd: 2\n';
    expect(documentRegions(text, parseEvents(text, {}))).toEqual([
      'a: 1\n',
      '\n---\nb:\n  - c\n',
      '\n\n\n\n---\n\n# note\nd: 2\n',
    ]);
  });
});
