import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { load } from 'js-yaml';
import { isRecord } from './objects.ts';
import { type EarlyRender, kustomize } from './render.ts';

/**
 * Starts `kubectl kustomize` for a sizing's overlay before validate loads its checks and reads
 * the catalog in full (schema validator, positional YAML parser: about a third of a second on
 * these machines), so the Go process runs on the other core meanwhile. Only `render` is read
 * here, without checks; validateStack adopts the result when the checked catalog names the same
 * directory and cancels it otherwise. Undefined when anything is unclear: validateStack then
 * starts kustomize itself. Never throws.
 */
export function startEarlyRender(catalog: string, sizing?: string): EarlyRender | undefined {
  try {
    const abs = resolve(catalog);
    const raw = load(readFileSync(abs, 'utf8'));
    const render = isRecord(raw) && isRecord(raw.render) ? raw.render : undefined;
    const overlays = render && isRecord(render.overlays) ? render.overlays : undefined;
    const name = sizing ?? (typeof render?.defaultSizing === 'string' ? render.defaultSizing : 'kind');
    const rel = overlays && Object.hasOwn(overlays, name) ? overlays[name] : undefined;
    if (typeof rel !== 'string') return undefined;
    const dir = resolve(dirname(abs), rel);
    const abort = new AbortController();
    const output = kustomize(dir, abort.signal);
    if (process.env.KINDLING_TIMING)
      process.stderr.write(`timing: kustomize started early (process ${Math.round(performance.now())}ms)\n`);
    output.catch(() => {}); // its verdict is read by whoever adopts it; a cancelled one is nobody's
    return { dir, output, cancel: () => abort.abort() };
  } catch {
    return undefined;
  }
}
