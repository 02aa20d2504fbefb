// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the source lines the plugin rewrites are data here
// Bundles each action's entry point into actions/<name>/dist/<entry>.js (one ESM file, no node_modules
// needed at run time). GitHub runs these with node24; check-dist fails when they are stale.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { parseAllDocuments } from 'yaml';

const only = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * action → entry points: src/actions/<action>/<entry>.ts → actions/<action>/dist/<entry>.js. Each
 * entry is a tiny file that calls run() from main.ts (or cleanup.ts), as in actions/typescript-action.
 */
const entries = [
  ['deploy', 'index', 'src/actions/deploy/index.ts'],
  ['deploy', 'post', 'src/actions/deploy/post.ts'],
  ['verify', 'index', 'src/actions/verify/index.ts'],
  ['backup', 'index', 'src/actions/backup/index.ts'],
]
  .filter(([, , src]) => existsSync(new URL(`../${src}`, import.meta.url)))
  // `npm run bundle -- verify deploy` rebuilds only those actions
  .filter(([action]) => only.length === 0 || only.includes(action));

/**
 * The runner downloads an action's repository without node_modules, so what the sources load at run
 * time by path must be in the bundle: validate's field table (a JSON file read next to
 * src/manifests/fields.ts) and the kubernetes-models validators kube-schema.ts requires by kind —
 * the kinds the repository's manifests use, found in manifests/**. A kind outside them still takes
 * the dynamic require (node_modules, where present). A source that no longer has the expected line
 * stops the bundle instead of shipping one that fails at run time.
 */
function manifestKinds(dir = new URL('../manifests', import.meta.url).pathname) {
  const kinds = new Set();
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) for (const k of manifestKinds(p)) kinds.add(k);
    else if (/\.ya?ml$/.test(f))
      for (const doc of parseAllDocuments(readFileSync(p, 'utf8'))) {
        const o = doc.toJS();
        if (
          o &&
          typeof o.apiVersion === 'string' &&
          typeof o.kind === 'string' &&
          /^[\w.-]+(\/\w+)?$/.test(o.apiVersion)
        )
          kinds.add(`${o.apiVersion}/${o.kind}`);
      }
  }
  return kinds;
}

const modelFile = (k) => new URL(`../node_modules/kubernetes-models/${k}.js`, import.meta.url).pathname;

const runTimeFiles = {
  name: 'kindling-run-time-files',
  setup(b) {
    const replace = (file, from, to) => {
      const text = readFileSync(file, 'utf8');
      if (!text.includes(from)) throw new Error(`bundle: ${file} no longer has: ${from}`);
      return text.replace(from, to);
    };
    b.onLoad({ filter: /src[\\/]manifests[\\/]fields\.ts$/ }, (args) => ({
      loader: 'ts',
      contents: `import __fieldTypes from './generated/field-types.json';\n${replace(
        args.path,
        "JSON.parse(readFileSync(new URL('./generated/field-types.json', import.meta.url), 'utf8'))",
        '__fieldTypes',
      )}`,
    }));
    b.onLoad({ filter: /src[\\/]manifests[\\/]kube-schema\.ts$/ }, (args) => {
      const kinds = [...manifestKinds()].filter((k) => existsSync(modelFile(k))).sort();
      // static imports (the module's own `require` is createRequire's, which esbuild cannot follow)
      const imports = kinds.map(
        (k, i) => `import * as __model${i} from ${JSON.stringify(`kubernetes-models/${k}`)};`,
      );
      const table = kinds.map((k, i) => `  ${JSON.stringify(k)}: __model${i},`);
      return {
        loader: 'ts',
        contents: `${imports.join('\n')}\n${replace(
          args.path,
          'const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;',
          'const mod = (BUNDLED_MODELS[key] ?? require(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;',
        )}\nconst BUNDLED_MODELS: Record<string, unknown> = {\n${table.join('\n')}\n};\n`,
      };
    });
  },
};

// client-node and the AWS SDK still `require` node built-ins; give the ESM bundle a real require.
const banner =
  "import { createRequire as __kindlingRequire } from 'node:module'; const require = __kindlingRequire(import.meta.url);";

await Promise.all(
  entries.map(([action, name, src]) =>
    build({
      entryPoints: [src],
      outfile: `actions/${action}/dist/${name}.js`,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      legalComments: 'none',
      banner: { js: banner },
      define: { 'globalThis.__KINDLING_VERSION__': JSON.stringify(pkg.version) },
      logLevel: 'warning',
      plugins: [runTimeFiles],
    }),
  ),
);
console.log(`bundled ${entries.map(([a, n]) => `actions/${a}/dist/${n}.js`).join(', ') || 'nothing'}`);
