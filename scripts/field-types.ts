/**
 * Regenerates src/manifests/generated/field-types.json: every field of every Kubernetes model class
 * in the installed @kubernetes/client-node (its static `getAttributeTypeMap()`), as one compact
 * table. `kindling validate` reads this one file instead of importing a model module per type.
 *
 *   npm run gen:field-types            rewrite the table
 *   npm run gen:field-types -- --check exit 1 when it differs from the installed client-node
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TABLE = fileURLToPath(new URL('../src/manifests/generated/field-types.json', import.meta.url));

/** Field wire name to type name (`string`, `Array<V1Container>`, `V1PodSpec`…), per model class. */
export interface FieldTypes {
  source: string;
  types: Record<string, Record<string, string>>;
}

interface ModelClass {
  getAttributeTypeMap?: () => readonly { baseName: string; type: string }[];
}

export async function buildFieldTypes(): Promise<FieldTypes> {
  const pkg = JSON.parse(
    readFileSync(createRequire(import.meta.url).resolve('@kubernetes/client-node/package.json'), 'utf8'),
  ) as { name: string; version: string };
  // one class per file, named as the file: exactly what a per-type import would find
  const dir = fileURLToPath(import.meta.resolve('@kubernetes/client-node/dist/gen/models/all.js'));
  const names = readdirSync(dirname(dir))
    .filter((f) => /^[A-Za-z0-9]+\.js$/.test(f))
    .map((f) => f.slice(0, -3))
    .sort();
  const types: FieldTypes['types'] = {};
  for (const name of names) {
    const mod = (await import(`@kubernetes/client-node/dist/gen/models/${name}.js`)) as Record<
      string,
      ModelClass
    >;
    const attrs = mod[name]?.getAttributeTypeMap?.();
    if (!Array.isArray(attrs)) continue; // enums and helpers, not models
    types[name] = Object.fromEntries(attrs.map((a) => [a.baseName, a.type]));
  }
  return { source: `${pkg.name}@${pkg.version}`, types };
}

/** One type per line: small diffs when client-node changes, and still one fast JSON.parse. */
export function serialize(table: FieldTypes): string {
  const lines = Object.entries(table.types).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n  "source": ${JSON.stringify(table.source)},\n  "types": {\n${lines.join(',\n')}\n  }\n}\n`;
}

if (import.meta.main) {
  const text = serialize(await buildFieldTypes());
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(TABLE, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`${TABLE} is out of date with the installed client-node: run npm run gen:field-types`);
      process.exit(1);
    }
    console.log(`${TABLE} is up to date`);
  } else {
    writeFileSync(TABLE, text);
    console.log(`wrote ${TABLE}`);
  }
}
