import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { UsageError } from '../util/errors.ts';
import { formatProblem, hasErrors, type Problem } from '../util/problem.ts';
import { lineAt, parseYamlSource, pointerToPath, type SourceDoc } from '../util/yaml-source.ts';
import { findCycle } from './resolve.ts';
// The schema compiled ahead of time (npm run gen:catalog-validator): compiling it here loaded ajv's
// compiler and generated code at every start (measured +8 MiB resident and 55 ms, against +1 MiB, 13 ms).
import { validate as validateSchema } from './schema-validator.generated.js';
import type { Component, HardeningData, NetworkData, Stack } from './types.ts';

export const DEFAULT_CATALOG = 'manifests/stack.yaml';

export interface CatalogResult {
  stack?: Stack;
  problems: Problem[];
  /** The parsed catalog with positions, for pointing at its lines. */
  source?: SourceDoc;
}

/** Reads and checks a catalog file; every problem is returned with its line, nothing is thrown. */
export function readCatalog(file: string = DEFAULT_CATALOG): CatalogResult {
  const abs = resolve(file);
  const shown = displayPath(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    return {
      problems: [
        { severity: 'error', file: shown, rule: 'catalog', message: `cannot read the stack catalog: ${why}` },
      ],
    };
  }
  return parseCatalog(shown, text, dirname(abs));
}

/** Parses catalog text. `dir` is where manifest paths are resolved from. */
export function parseCatalog(shown: string, text: string, dir: string): CatalogResult {
  const { docs, problems } = parseYamlSource(shown, text);
  if (hasErrors(problems)) return { problems };
  if (docs.length !== 1) {
    return {
      problems: [
        {
          severity: 'error',
          file: shown,
          line: 1,
          rule: 'catalog',
          message: `expected one YAML document, found ${docs.length}`,
        },
      ],
    };
  }
  const src = docs[0]!;
  const raw = src.value;
  const renamed = renamedKeys(raw, src, shown);
  if (!validateSchema(raw) || renamed.length) {
    problems.push(...renamed.map((r) => r.problem));
    for (const e of validateSchema.errors ?? []) {
      const path = pointerToPath(e.instancePath);
      if (e.keyword === 'additionalProperties') path.push(String(e.params.additionalProperty));
      if (renamed.some((r) => r.at === path.join('.'))) continue; // said better above
      problems.push({
        severity: 'error',
        file: shown,
        line: lineAt(src, path),
        rule: 'catalog-schema',
        message: schemaMessage(e.instancePath, e.message ?? 'invalid', e.params),
      });
    }
    return { problems: dedupe(problems) };
  }
  const stack = normalise(raw as RawCatalog, shown, dir, src);
  problems.push(...crossCheck(stack, src, shown));
  return hasErrors(problems) ? { problems, source: src } : { stack, problems, source: src };
}

/** Loads a catalog or throws one UsageError listing every problem (exit 2). */
export function loadStack(file: string = DEFAULT_CATALOG): Stack {
  const { stack, problems } = readCatalog(file);
  if (!stack)
    throw new UsageError(
      `invalid stack catalog:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  return stack;
}

/**
 * Keys renamed when "profile" came to mean a component set only and the kustomize overlay "sizing":
 * a catalog still using the old name is told the new one (instead of a bare "unknown field").
 */
const RENAMED: readonly { path: readonly [string, string]; now: string }[] = [
  { path: ['render', 'defaultProfile'], now: 'defaultSizing' },
  { path: ['policy', 'strictProfiles'], now: 'strictSizings' },
];

function renamedKeys(raw: unknown, src: SourceDoc, file: string): { at: string; problem: Problem }[] {
  const out: { at: string; problem: Problem }[] = [];
  for (const { path, now } of RENAMED) {
    const parent = isObject(raw) ? raw[path[0]] : undefined;
    if (!isObject(parent) || !Object.hasOwn(parent, path[1])) continue;
    const at = path.join('.');
    const message = `${at} is now ${path[0]}.${now} (a profile is a component set; the overlay is the sizing)`;
    out.push({
      at,
      problem: { severity: 'error', file, line: lineAt(src, [...path]), rule: 'catalog-schema', message },
    });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface RawComponent extends Partial<Omit<Component, 'name'>> {
  group: string;
  manifests: string[];
}
interface RawCatalog {
  namespace: string;
  render: Stack['render'];
  shared?: Stack['shared'];
  groups?: Record<string, string>;
  policy?: Partial<Omit<Stack['policy'], 'network' | 'hardening'>> & {
    network?: Partial<NetworkData>;
    hardening?: Partial<HardeningData>;
  };
  profiles: Record<string, string[]>;
  components: Record<string, RawComponent>;
}

function normalise(raw: RawCatalog, file: string, dir: string, src: SourceDoc): Stack {
  const components: Record<string, Component> = {};
  const lines: Record<string, number> = {};
  for (const [name, c] of Object.entries(raw.components)) {
    components[name] = {
      name,
      group: c.group,
      description: c.description,
      manifests: c.manifests,
      dependsOn: c.dependsOn ?? [],
      workloads: c.workloads ?? [],
      services: c.services ?? [],
      endpoints: c.endpoints ?? [],
      checks: c.checks ?? [],
      backups: c.backups ?? [],
      rotation: c.rotation ?? [],
      readyTimeout: c.readyTimeout,
      ...(c.host ? { host: c.host } : {}),
      ...(c.upgrade ? { upgrade: c.upgrade } : {}),
    };
    lines[name] = lineAt(src, ['components', name]);
  }
  return {
    file,
    dir,
    namespace: raw.namespace,
    render: { ...raw.render, defaultSizing: raw.render.defaultSizing ?? 'kind' },
    shared: { manifests: raw.shared?.manifests ?? [] },
    groups: raw.groups ?? {},
    profiles: raw.profiles,
    components,
    policy: {
      defaultCredentials: raw.policy?.defaultCredentials ?? [],
      defaultCredentialsInPasswordFields: raw.policy?.defaultCredentialsInPasswordFields ?? [],
      strictSizings: raw.policy?.strictSizings ?? ['production'],
      dataDirectories: raw.policy?.dataDirectories ?? [],
      network: raw.policy?.network && {
        metricsScraper: raw.policy.network.metricsScraper,
        clientNamespaces: raw.policy.network.clientNamespaces ?? [],
        connections: raw.policy.network.connections ?? [],
      },
      hardening: raw.policy?.hardening && {
        spreadTopologyKey: raw.policy.hardening.spreadTopologyKey,
        quorum: raw.policy.hardening.quorum ?? [],
      },
    },
    lines,
  };
}

/** What a schema cannot say: references between components, profiles and groups; cycles. */
function crossCheck(stack: Stack, src: SourceDoc, file: string): Problem[] {
  const problems: Problem[] = [];
  const err = (path: (string | number)[], message: string, rule = 'catalog') =>
    problems.push({ severity: 'error', file, line: lineAt(src, path), rule, message });
  const names = new Set(Object.keys(stack.components));

  for (const c of Object.values(stack.components)) {
    if (Object.keys(stack.groups).length && !Object.hasOwn(stack.groups, c.group)) {
      err(['components', c.name, 'group'], `component "${c.name}" is in unknown group "${c.group}"`);
    }
    c.dependsOn.forEach((d, i) => {
      if (!names.has(d))
        err(
          ['components', c.name, 'dependsOn', i],
          `component "${c.name}" depends on unknown component "${d}"`,
        );
      if (d === c.name)
        err(
          ['components', c.name, 'dependsOn', i],
          `component "${c.name}" depends on itself`,
          'dependency-cycle',
        );
    });
    const endpointNames = new Set(c.endpoints.map((e) => e.name));
    for (const [kind, list] of [
      ['checks', c.checks],
      ['backups', c.backups],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.name))
          err(
            ['components', c.name, kind, i, 'name'],
            `component "${c.name}" has two ${kind} named "${item.name}"`,
          );
        seen.add(item.name);
        if (item.endpoint && !endpointNames.has(item.endpoint)) {
          err(
            ['components', c.name, kind, i, 'endpoint'],
            `${kind.slice(0, -1)} "${item.name}" of "${c.name}" uses unknown endpoint "${item.endpoint}"`,
          );
        }
      });
    }
  }
  for (const [profile, members] of Object.entries(stack.profiles)) {
    members.forEach((m, i) => {
      if (!names.has(m) && !Object.hasOwn(stack.profiles, m))
        err(['profiles', profile, i], `profile "${profile}" names unknown component or profile "${m}"`);
      if (m === profile) err(['profiles', profile, i], `profile "${profile}" includes itself`);
    });
    if (names.has(profile))
      err(['profiles', profile], `profile "${profile}" has the same name as a component`);
  }
  if (!Object.hasOwn(stack.render.overlays, stack.render.defaultSizing)) {
    err(
      ['render', 'defaultSizing'],
      `default sizing "${stack.render.defaultSizing}" is not one of the overlays (${Object.keys(stack.render.overlays).join(', ')})`,
    );
  }
  const profileLoop = findProfileCycle(stack.profiles);
  if (profileLoop)
    err(['profiles', profileLoop[0]!], `profile cycle: ${profileLoop.join(' -> ')}`, 'profile-cycle');
  const cycle = findCycle(stack);
  if (cycle)
    err(
      ['components', cycle[0]!, 'dependsOn'],
      `dependency cycle: ${cycle.join(' -> ')}`,
      'dependency-cycle',
    );
  return problems;
}

/** Profiles that include each other (a -> b -> a); a profile naming itself is reported on its own. */
function findProfileCycle(profiles: Record<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (p: string): string[] | undefined => {
    if (path.includes(p)) return [...path.slice(path.indexOf(p)), p];
    if (done.has(p) || !Object.hasOwn(profiles, p)) return undefined;
    path.push(p);
    for (const m of profiles[p]!) {
      if (m === p) continue;
      const found = visit(m);
      if (found) return found;
    }
    path.pop();
    done.add(p);
    return undefined;
  };
  for (const p of Object.keys(profiles)) {
    const found = visit(p);
    if (found) return found;
  }
  return undefined;
}

function schemaMessage(pointer: string, message: string, params: Record<string, unknown>): string {
  const at = pointer ? pointerToPath(pointer).join('.') : 'the catalog';
  if ('additionalProperty' in params) return `${at}: unknown field "${params.additionalProperty}"`;
  if ('allowedValues' in params)
    return `${at}: ${message}: ${(params.allowedValues as unknown[]).join(', ')}`;
  if ('missingProperty' in params) return `${at}: missing required field "${params.missingProperty}"`;
  return `${at}: ${message}`;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}
