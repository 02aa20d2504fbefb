import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readCatalog } from '../catalog/load.ts';
import { securityProblems } from '../security/rules.ts';
import { UsageError } from '../util/errors.ts';
import { formatProblem, type Problem } from '../util/problem.ts';
import { catalogFindings } from './catalog-rules.ts';
import { dataDirFindings } from './data-dirs.ts';
import { unknownFieldFindings } from './fields.ts';
import type { Finding } from './findings.ts';
import { preloadSchemas, schemaFindings } from './kube-schema.ts';
import { Locator } from './locate.ts';
import { CLUSTER_SCOPED, containersOf, isRecord, keyOf, podTemplate } from './objects.ts';
import { ownershipFindings } from './ownership.ts';
import { policyFindings } from './policy.ts';
import { ruleProblems } from './promql.ts';
import { referenceFindings } from './references.ts';
import {
  type EarlyRender,
  type KubeObject,
  kustomize,
  overlayDir,
  parseRendered,
  RenderError,
} from './render.ts';
import { displayPath, findKustomization, loadSources, type SourceSet } from './sources.ts';

export interface ValidateOptions {
  /** Path of the stack catalog. */
  catalog: string;
  /** Sizing overlay (catalog `render.overlays`); default `render.defaultSizing`. */
  sizing?: string;
  /** kustomize already started (startEarlyRender): used if it renders this sizing's overlay, else cancelled. */
  early?: EarlyRender;
}

export interface ValidateResult {
  /** The sizing validated (undefined when the catalog itself could not be read). */
  sizing?: string;
  problems: Problem[];
  /** How many objects were checked. */
  objects: number;
  /** False when source errors (or kustomize) stopped rendering: the base objects were checked as written. */
  rendered: boolean;
}

/**
 * Validates the whole stack for one sizing and returns every problem found. Throws only
 * UsageError (missing catalog, unknown sizing, no kubectl): anything wrong in the files is a problem.
 */
export async function validateStack(opts: ValidateOptions): Promise<ValidateResult> {
  const { checked: _, ...result } = await checkStack(opts);
  return result;
}

/** A validate pass plus the objects it checked (kustomize's output when `rendered`). */
export interface StackCheck extends ValidateResult {
  checked: KubeObject[];
}

/**
 * The one validity pass: `validate` reports it, `plan` and `deploy` refuse its errors
 * (`renderChecked`) and then use the very objects it checked, so kustomize runs once.
 */
export async function checkStack(opts: ValidateOptions): Promise<StackCheck> {
  const adopted = { early: false };
  try {
    return await validate(opts, adopted);
  } finally {
    if (!adopted.early) opts.early?.cancel();
  }
}

/**
 * Renders a sizing for `plan`/`deploy`, refusing (UsageError, exit 2) everything `kindling validate`
 * reports as an error, each with file:line — a catalog naming a missing manifest, an ownership or
 * service-links violation — before anything is planned or applied. Warnings pass.
 */
export async function renderChecked(catalog: string, sizing: string): Promise<KubeObject[]> {
  const r = await checkStack({ catalog, sizing });
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length)
    throw new UsageError(
      `the stack has ${errors.length} error${errors.length === 1 ? '' : 's'} for sizing "${sizing}", as \`kindling validate\` reports them; nothing was planned or applied:\n${errors.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  return r.checked;
}

async function validate(opts: ValidateOptions, adopted: { early: boolean }): Promise<StackCheck> {
  const catalogPath = resolve(opts.catalog);
  if (!existsSync(catalogPath)) throw new UsageError(`no such file: ${opts.catalog}`, '--catalog');
  if (statSync(catalogPath).isDirectory())
    throw new UsageError(`${opts.catalog} is a directory, not a catalog file`, '--catalog');

  const catalog = readCatalog(catalogPath);
  const { stack } = catalog;
  if (!stack || !catalog.source)
    return { problems: sortProblems(catalog.problems), objects: 0, rendered: false, checked: [] };
  const sizing = opts.sizing ?? stack.render.defaultSizing;
  const dir = overlayDir(stack, sizing); // UsageError naming --sizing when unknown

  // kustomize (a Go binary, ~0.3 s) runs while this process parses the sources and loads the
  // schema validators for the kinds they hold: on two cores the two overlap.
  mark('catalog');
  adopted.early = opts.early?.dir === dir;
  if (!adopted.early) opts.early?.cancel(); // now, not when done: it would compete for the CPU
  const rendering = (adopted.early ? opts.early!.output : kustomize(dir)).then(
    (text) => {
      mark('kustomize');
      return { objects: parseRendered(text) };
    },
    (err: unknown) => ({ err }),
  );
  const sources = loadSources(dir);
  mark('sources parsed');
  preloadSchemas(sources.objects.map((s) => s.value as KubeObject));
  const problems: Problem[] = [...catalog.problems, ...sources.problems, ...duplicateProblems(sources)];
  const kfile = displayPath(findKustomization(dir) ?? dir);

  let objects = sources.objects.map((s) => asKustomizeWould(s.value as KubeObject, sources));
  let rendered = false;
  mark('sources + schema loading');
  const result = await rendering;
  // with errors in the sources kustomize's verdict adds nothing: the base objects are checked as written
  if (!problems.some((p) => p.severity === 'error')) {
    if ('objects' in result) {
      objects = result.objects;
      rendered = true;
    } else if (result.err instanceof RenderError) {
      const culprit = patchNamedIn(sources, result.err.detail);
      problems.push({
        severity: 'error',
        file: culprit?.file ?? kfile,
        line: culprit?.src.line ?? 1,
        rule: 'render',
        message: `kustomize cannot render this overlay: ${result.err.detail}`,
      });
    } else {
      throw result.err;
    }
  } else if ('err' in result && !(result.err instanceof RenderError)) {
    throw result.err; // kubectl missing: a usage error whatever the files say
  }

  mark('rendered');
  const locator = new Locator(sources, kfile);
  const findings: Finding[] = [];
  for (const list of await Promise.all(objects.map(checkObject))) findings.push(...list);
  findings.push(
    ...referenceFindings(objects, stack.namespace),
    ...ownershipFindings(objects, stack),
    ...dataDirFindings(objects, stack.policy.dataDirectories ?? []),
    ...policyFindings(objects, sizing, stack.policy),
  );
  for (const f of findings) {
    const at = locator.locate(f.object, f.path, f.preferBase);
    problems.push({ severity: f.severity, file: at.file, line: at.line, rule: f.rule, message: f.message });
  }
  problems.push(...catalogFindings(stack, catalog.source, objects, sources.resourceFiles, locator));
  problems.push(...securityProblems(stack, catalog.source, objects, sizing, locator));
  problems.push(...ruleProblems(objects, locator));
  mark('checks');
  return {
    sizing,
    problems: sortProblems(dedupe(problems)),
    objects: objects.length,
    rendered,
    checked: objects,
  };
}

/**
 * When kustomize cannot render, the sources are checked as written, with the two transformers
 * every check depends on applied by hand: the kustomization's namespace and image tags.
 */
export function asKustomizeWould(
  o: KubeObject,
  sources: Pick<SourceSet, 'images' | 'namespace'>,
): KubeObject {
  const copy = structuredClone(o);
  if (sources.namespace && !CLUSTER_SCOPED.has(copy.kind) && isRecord(copy.metadata))
    copy.metadata.namespace = sources.namespace;
  const t = podTemplate(copy);
  if (t && sources.images.length)
    for (const c of containersOf(t)) {
      const image = c.value.image;
      if (typeof image !== 'string' || image.includes('@')) continue;
      const slash = image.lastIndexOf('/');
      const colon = image.lastIndexOf(':');
      const name = colon > slash ? image.slice(0, colon) : image;
      let tag = colon > slash ? `:${image.slice(colon + 1)}` : '';
      let newName = name;
      for (const rule of sources.images) {
        if (rule.name !== name) continue;
        if (rule.newName) newName = rule.newName;
        if (rule.newTag) tag = `:${rule.newTag}`;
        if (rule.digest) tag = `@${rule.digest}`;
      }
      c.value.image = `${newName}${tag}`;
    }
  return copy;
}

const started = performance.now();
/** KINDLING_TIMING=1 prints where the time goes (stderr), for the start-up budget. */
function mark(phase: string): void {
  if (process.env.KINDLING_TIMING)
    process.stderr.write(
      `timing: ${phase} at ${Math.round(performance.now() - started)}ms (process ${Math.round(performance.now())}ms)\n`,
    );
}

/** kustomize names a patch's target (`Deployment.v1.apps/web.demo`) when it matches nothing. */
function patchNamedIn(sources: SourceSet, detail: string) {
  return sources.patches.find(
    (p) =>
      p.target.kind &&
      p.target.name &&
      detail.includes(`${p.target.kind}.`) &&
      detail.includes(`/${p.target.name}.`),
  );
}

async function checkObject(o: KubeObject): Promise<Finding[]> {
  return [...(await schemaFindings(o)), ...unknownFieldFindings(o)];
}

/** kustomize refuses duplicates without saying where they are; find them in the sources. */
function duplicateProblems(sources: SourceSet): Problem[] {
  const first = new Map<string, SourceSet['objects'][number]>();
  const out: Problem[] = [];
  for (const s of sources.objects) {
    const key = keyOf(s.value as KubeObject);
    const seen = first.get(key);
    // positions are parsed only here, for the files that have a duplicate
    if (seen)
      out.push({
        severity: 'error',
        file: s.file,
        line: s.src.line,
        rule: 'duplicate',
        message: `duplicate object: ${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name} is also defined at ${seen.file}:${seen.src.line}`,
      });
    else first.set(key, s);
  }
  return out;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.file}:${p.line}:${p.rule}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.message.localeCompare(b.message),
  );
}
