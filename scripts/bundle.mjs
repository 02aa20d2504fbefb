// Bundles each action's entry point into actions/<name>/dist/<entry>.js (one ESM file, no node_modules
// needed at run time). GitHub runs these with node24; check-dist fails when they are stale.
import { existsSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';

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
    }),
  ),
);
console.log(`bundled ${entries.map(([a, n]) => `actions/${a}/dist/${n}.js`).join(', ') || 'nothing'}`);
