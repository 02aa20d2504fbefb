import { readFileSync } from 'node:fs';

/** kindling's version, from package.json (bundles inline it at build time). */
export const VERSION: string =
  (globalThis as { __KINDLING_VERSION__?: string }).__KINDLING_VERSION__ ??
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
