/**
 * The security rules every workflow must follow, as one pure function over a parsed workflow.
 * Each rule returns readable violations naming the file and the place.
 */
import { isObj, jobs, type Obj, steps, type Workflow } from './workflows.ts';

/** Write scopes a job may hold, and why. Anything else must stay read-only. */
export const ALLOWED_WRITES: Record<string, readonly string[]> = {
  // opens/closes the one backup-failure issue
  'reusable-backup.yml/report': ['issues'],
  // the caller of the reusable workflow above must grant what it needs
  'nightly-backup.yml/backup': ['issues'],
};

const SHA_PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/;
const VERSION_COMMENT = /#\s*v\d+(\.\d+)*\b/;
const EXPRESSION = /\$\{\{[\s\S]*?\}\}/g;

function baseName(file: string): string {
  return file.split('/').pop() ?? file;
}

function permissionProblems(where: string, perms: unknown, allowedWrites: readonly string[]): string[] {
  if (perms === undefined) return [`${where}: no explicit permissions:`];
  if (typeof perms === 'string') return [`${where}: permissions: ${perms} (list the scopes it needs)`];
  if (!isObj(perms)) return [`${where}: permissions: must be a mapping`];
  return Object.entries(perms)
    .filter(([scope, level]) => level === 'write' && !allowedWrites.includes(scope))
    .map(
      ([scope]) =>
        `${where}: ${scope}: write is not needed (allowed writes: ${allowedWrites.join(', ') || 'none'})`,
    );
}

function triggers(doc: Obj): string[] {
  const on = doc.on;
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return isObj(on) ? Object.keys(on) : [];
}

/** Paths (as `a.b.c`) of every string in the document, with the string. */
function strings(value: unknown, path: string[] = []): [string[], string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...path, String(i)]));
  if (isObj(value)) return Object.entries(value).flatMap(([k, v]) => strings(v, [...path, k]));
  return [];
}

/** A secret may only be handed to a step through env:/with:, or to a reusable workflow through secrets:. */
function secretPlacementOk(path: string[]): boolean {
  const parent = path[path.length - 2];
  return parent === 'env' || parent === 'with' || (parent === 'secrets' && path[0] === 'jobs');
}

export function checkWorkflow(wf: Workflow): string[] {
  const file = wf.file;
  const name = baseName(file);
  const problems: string[] = [];

  if (triggers(wf.doc).includes('pull_request_target'))
    problems.push(`${file}: pull_request_target runs untrusted code with secrets; use pull_request`);

  problems.push(...permissionProblems(`${file} (workflow)`, wf.doc.permissions, []));
  for (const [jobId, job] of jobs(wf)) {
    const where = `${file} › ${jobId}`;
    problems.push(...permissionProblems(where, job.permissions, ALLOWED_WRITES[`${name}/${jobId}`] ?? []));
    if (job.secrets === 'inherit')
      problems.push(`${where}: secrets: inherit hands over every secret; pass them by name`);

    steps(job).forEach((step, i) => {
      const stepWhere = `${where} › ${typeof step.name === 'string' ? step.name : `step ${i + 1}`}`;
      const uses = typeof step.uses === 'string' ? step.uses : '';
      if (/^actions\/checkout@/.test(uses)) {
        const pc = isObj(step.with) ? step.with['persist-credentials'] : undefined;
        if (pc !== false && pc !== 'false')
          problems.push(`${stepWhere}: actions/checkout without persist-credentials: false`);
      }
      if (typeof step.run === 'string') {
        for (const expr of step.run.match(EXPRESSION) ?? [])
          problems.push(`${stepWhere}: expression ${expr} interpolated into run:; pass it through env:`);
      }
    });
  }

  // Third-party actions and reusable workflows: pinned by a full commit SHA, with a `# vX` comment.
  wf.text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*['"]?([^'"\s#]+)['"]?\s*(#.*)?$/.exec(line);
    if (!m) return;
    const ref = m[1]!;
    if (ref.startsWith('./')) return;
    const at = `${file}:${i + 1}`;
    if (ref.startsWith('docker://')) {
      if (!ref.includes('@sha256:')) problems.push(`${at}: ${ref} is not pinned by digest`);
      return;
    }
    if (!SHA_PIN.test(ref)) problems.push(`${at}: ${ref} is not pinned by a full 40-hex commit SHA`);
    else if (!VERSION_COMMENT.test(m[2] ?? '')) problems.push(`${at}: ${ref} has no "# vX" version comment`);
  });

  // Secrets only through env:/with:/secrets:.
  for (const [path, value] of strings(wf.doc)) {
    const exprs = value.match(EXPRESSION) ?? [];
    if (exprs.some((e) => /\bsecrets\./.test(e)) && !secretPlacementOk(path))
      problems.push(
        `${file}: secret used at ${path.join('.')}; pass secrets only through env:, with: or secrets:`,
      );
  }
  return problems;
}
