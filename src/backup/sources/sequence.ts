/**
 * `type: sequence` — several backups of one component taken as ONE unit: its `parts` (each a
 * backup spec of its own type, reaching the data through one of the component's endpoints) run in
 * the order listed, into one component record of one manifest; restore runs them in REVERSE order.
 * No part may be missing: a failed part fails the whole unit, so no manifest holds half of it.
 *
 * Which order is right is the service's knowledge, so it lives in the catalog (Milvus: metadata
 * before the segment objects it references; see manifests/stack.yaml).
 */
import type { BackupSpec, Component } from '../../catalog/types.ts';
import type { ArtifactRecord, ComponentRecord } from '../manifest.ts';
import type { BackupSource, Fingerprint, ParamProblem } from '../types.ts';
import { unknownParams } from './common.ts';

interface PartRecord {
  name: string;
  type: string;
  /** Names of this part's artifacts in the component record. */
  artifacts: string[];
  serverVersion?: string;
  toolVersion?: string;
  meta?: Record<string, unknown>;
  startedAt: string;
  finishedAt: string;
}

/** The parts of a sequence spec as backup specs of their own (pure; assumes validate passed). */
export function partSpecs(spec: BackupSpec): BackupSpec[] {
  return (spec.parts as Record<string, unknown>[]).map((p) => ({ ...p }) as BackupSpec);
}

/** The restore order: the backup order reversed (pure). */
export const restoreOrder = <T>(parts: readonly T[]): T[] => [...parts].reverse();

export function sequenceSource(lookup: (type: string) => BackupSource | undefined): BackupSource {
  const sourceOf = (part: BackupSpec): BackupSource => {
    const s = lookup(part.type);
    if (!s) throw new Error(`internal: part "${part.name}" has unknown type ${part.type}`);
    return s;
  };
  const partRecord = (record: ComponentRecord, p: PartRecord): ComponentRecord => ({
    component: record.component,
    backup: `${record.backup}/${p.name}`,
    type: p.type,
    durationMs: 0,
    serverVersion: p.serverVersion,
    toolVersion: p.toolVersion,
    artifacts: record.artifacts.filter((a) => p.artifacts.includes(a.name)),
    meta: p.meta,
  });
  const partsOf = (record: ComponentRecord): PartRecord[] => (record.meta?.parts ?? []) as PartRecord[];

  return {
    type: 'sequence',

    validate(spec: BackupSpec, component: Component): ParamProblem[] {
      const problems = unknownParams(spec, ['parts']);
      const parts = spec.parts;
      if (!Array.isArray(parts) || parts.length === 0)
        return [
          ...problems,
          { path: ['parts'], message: 'must be a non-empty list of backups ({ name, type, endpoint, …})' },
        ];
      const seen = new Set<string>();
      for (const [i, raw] of parts.entries()) {
        const at = (p: ParamProblem): ParamProblem => ({ ...p, path: ['parts', i, ...p.path] });
        if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
          problems.push(at({ path: [], message: 'must be a mapping { name, type, … }' }));
          continue;
        }
        const part = raw as BackupSpec;
        if (typeof part.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(part.name))
          problems.push(at({ path: ['name'], message: 'must be a lower-case name (a-z, 0-9, -)' }));
        else if (seen.has(part.name))
          problems.push(at({ path: ['name'], message: `"${part.name}" is used twice` }));
        else seen.add(part.name);
        if (part.endpoint !== undefined && !component.endpoints.some((e) => e.name === part.endpoint))
          problems.push(
            at({
              path: ['endpoint'],
              message: `${component.name} has no endpoint "${part.endpoint}"; it has ${component.endpoints.map((e) => e.name).join(', ')}`,
            }),
          );
        const source = typeof part.type === 'string' ? lookup(part.type) : undefined;
        if (!source || part.type === 'sequence') {
          problems.push(
            at({
              path: ['type'],
              message: `must be a backup type other than sequence (got ${String(part.type)})`,
            }),
          );
          continue;
        }
        problems.push(...source.validate(part, component).map(at));
      }
      return problems;
    },

    async backup(ctx) {
      const artifacts: ArtifactRecord[] = [];
      const parts: PartRecord[] = [];
      for (const part of partSpecs(ctx.spec)) {
        const startedAt = new Date().toISOString();
        ctx.log(`part ${parts.length + 1}: ${part.name} (${part.type})`);
        const result = await sourceOf(part).backup({
          ...ctx,
          spec: part,
          artifact: (name, a) => ctx.artifact(`${part.name}.${name}`, a),
          log: (line) => ctx.log(`${part.name}: ${line}`),
        });
        artifacts.push(...result.artifacts);
        parts.push({
          name: part.name,
          type: part.type,
          artifacts: result.artifacts.map((a) => a.name),
          serverVersion: result.serverVersion,
          toolVersion: result.toolVersion,
          meta: result.meta,
          startedAt,
          finishedAt: new Date().toISOString(),
        });
      }
      return { artifacts, meta: { parts } };
    },

    async preflightRestore(ctx) {
      const problems: string[] = [];
      const specs = partSpecs(ctx.spec);
      for (const p of restoreOrder(partsOf(ctx.record))) {
        const part = specs.find((s) => s.name === p.name);
        if (!part) {
          problems.push(
            `the catalog's ${ctx.spec.name} has no part "${p.name}" any more (the backup has it)`,
          );
          continue;
        }
        const found = await sourceOf(part).preflightRestore?.({
          ...ctx,
          spec: part,
          record: partRecord(ctx.record, p),
        });
        problems.push(...(found ?? []).map((x) => `${p.name}: ${x}`));
      }
      return problems;
    },

    async restore(ctx) {
      const notes: string[] = [];
      const specs = partSpecs(ctx.spec);
      for (const p of restoreOrder(partsOf(ctx.record))) {
        const part = specs.find((s) => s.name === p.name)!;
        const source = sourceOf(part);
        if (!source.restore)
          throw new Error(`part "${p.name}": backups of type ${p.type} cannot be restored by kindling`);
        ctx.log(`restoring part ${p.name} (${p.type})`);
        const got = await source.restore({
          ...ctx,
          spec: part,
          record: partRecord(ctx.record, p),
          log: (line) => ctx.log(`${p.name}: ${line}`),
        });
        notes.push(...got.map((n) => `${p.name}: ${n}`));
      }
      return notes;
    },

    drillRenames(record) {
      const out = new Map<string, string>();
      for (const p of partsOf(record))
        for (const [from, to] of lookup(p.type)?.drillRenames?.(partRecord(record, p)) ?? [])
          out.set(from, to);
      return out;
    },

    async fingerprint(ctx) {
      const out: Fingerprint = new Map();
      const specs = partSpecs(ctx.spec);
      for (const p of partsOf(ctx.record)) {
        const part = specs.find((s) => s.name === p.name);
        const source = part && sourceOf(part);
        if (!part || !source?.fingerprint) continue;
        const f = await source.fingerprint({ ...ctx, spec: part, record: partRecord(ctx.record, p) });
        for (const [k, v] of f) out.set(`${p.name}: ${k}`, v);
      }
      return out;
    },
  };
}
