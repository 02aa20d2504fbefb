/**
 * Reads the repository's workflows and pulls out what the lint and security tests look at:
 * every `run:` script with the shell GitHub runs it with, every `uses:` line, every step.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const WORKFLOW_DIR = '.github/workflows';

export interface Workflow {
  file: string;
  text: string;
  doc: Record<string, unknown>;
}

export function workflowFiles(dir = WORKFLOW_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export function parseWorkflow(file: string, text: string): Workflow {
  const doc = parse(text) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a YAML mapping`);
  return { file, text, doc: doc as Record<string, unknown> };
}

export function loadWorkflows(dir = WORKFLOW_DIR): Workflow[] {
  return workflowFiles(dir).map((f) => parseWorkflow(f, readFileSync(f, 'utf8')));
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function jobs(wf: Workflow): [string, Obj][] {
  const j = wf.doc.jobs;
  return isObj(j) ? Object.entries(j).map(([k, v]) => [k, isObj(v) ? v : {}]) : [];
}

export function steps(job: Obj): Obj[] {
  return Array.isArray(job.steps) ? job.steps.filter(isObj) : [];
}

export interface RunScript {
  where: string;
  shell: string;
  script: string;
}

function defaultShell(o: Obj | undefined): string | undefined {
  const d = o?.defaults;
  if (!isObj(d) || !isObj(d.run)) return undefined;
  return typeof d.run.shell === 'string' ? d.run.shell : undefined;
}

/**
 * Every `run:` script and its shell: the step's `shell:`, else the job's then the workflow's
 * `defaults.run.shell`, else bash (GitHub's default on Linux runners).
 */
export function runScripts(wf: Workflow): RunScript[] {
  const out: RunScript[] = [];
  for (const [jobId, job] of jobs(wf)) {
    steps(job).forEach((step, i) => {
      if (typeof step.run !== 'string') return;
      const shell =
        (typeof step.shell === 'string' ? step.shell : undefined) ??
        defaultShell(job) ??
        defaultShell(wf.doc) ??
        'bash';
      const name = typeof step.name === 'string' ? step.name : `step ${i + 1}`;
      out.push({ where: `${wf.file} › ${jobId} › ${name}`, shell, script: step.run });
    });
  }
  return out;
}

/** `${{ … }}` expressions replaced by a shell-neutral placeholder, so shellcheck sees plain shell. */
export function withPlaceholders(script: string): string {
  return script.replace(/\$\{\{[\s\S]*?\}\}/g, 'GHA_EXPRESSION');
}

/** The shellcheck dialect for a GitHub `shell:` value, or undefined when it is not a POSIX shell. */
export function shellcheckDialect(shell: string): 'bash' | 'sh' | undefined {
  const cmd = shell.trim().split(/\s+/)[0];
  if (cmd === 'bash') return 'bash';
  if (cmd === 'sh') return 'sh';
  return undefined;
}
