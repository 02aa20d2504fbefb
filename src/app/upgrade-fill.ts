/**
 * Filling green from blue for a `dump-restore` upgrade (a major version no rolling update can do):
 * a fresh kindling backup of blue (the catalog's `upgrade.backup` entry), restored into green, then
 * compared — the backup type's fingerprint (PostgreSQL: the tables and row counts of every database)
 * and the catalog's `upgrade.compare` checks, whose answers must be the same on both (e.g. the
 * roles) — and green's own checks (e.g. the seed databases). Whether to switch is a pure decision;
 * the switch itself is the caller's edge.
 *
 * The write window: from the backup's start until the Service is switched, writes to blue are not
 * in green. It is measured (backup start → switch) and stated in the outcome.
 */

import type { Compression } from '../backup/compression.ts';
import { loadManifest } from '../backup/inventory.ts';
import { runRestore } from '../backup/restore.ts';
import { SOURCES } from '../backup/sources/index.ts';
import type { TargetAccess } from '../backup/types.ts';
import { compareFingerprints } from '../backup/verify.ts';
import type { Component, Stack } from '../catalog/types.ts';
import type { VerifyReport } from '../report/results.ts';
import type { S3Store } from '../store/s3.ts';
import type { StoreLocation } from '../store/url.ts';
import { errorMessage } from '../util/errors.ts';
import { runBackup } from './backup.ts';
import { verifyStack } from './verify.ts';

export interface FillOptions {
  stack: Stack;
  /** The component as the catalog has it (blue). */
  blue: Component;
  /** The same component seen through green (src/upgrade/blue-green.ts greenComponent). */
  green: Component;
  source: TargetAccess;
  dest: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  compression: Compression;
  /** Deadline of each check. */
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface CompareResult {
  check: string;
  blue?: string;
  green?: string;
  ok: boolean;
}

export interface FillOutcome {
  ok: boolean;
  backupId?: string;
  /** Epoch ms when the backup of blue started: the write window opens here. */
  windowOpenedAt: number;
  backupMs: number;
  restoreMs: number;
  /** Fingerprint entries compared (tables, row counts…) and those that differ. */
  compared: number;
  differences: string[];
  compare: CompareResult[];
  /** Green's own checks, through green's Services. */
  greenVerify?: VerifyReport;
  problems: string[];
}

/** A stack in which `component` is replaced (the restore and the fingerprint read the catalog by name). */
const withComponent = (stack: Stack, c: Component): Stack => ({
  ...stack,
  components: { ...stack.components, [c.name]: c },
});

export async function fillGreen(o: FillOptions): Promise<FillOutcome> {
  const log = o.log ?? (() => {});
  const name = o.blue.upgrade?.backup;
  const spec = o.blue.backups.find((b) => b.name === name) ?? (name ? undefined : o.blue.backups[0]);
  const windowOpenedAt = Date.now();
  const out: FillOutcome = {
    ok: false,
    windowOpenedAt,
    backupMs: 0,
    restoreMs: 0,
    compared: 0,
    differences: [],
    compare: [],
    problems: [],
  };
  if (!spec) {
    out.problems.push(`${o.blue.name} has no backup "${name ?? '(any)'}" to fill green from`);
    return out;
  }
  try {
    log(`backing up ${o.blue.name} (${spec.name}) from blue: the write window opens now`);
    const backup = await runBackup({
      selected: [{ component: o.blue, spec }],
      target: o.source,
      store: o.store,
      location: o.location,
      compression: o.compression,
      log,
    });
    out.backupMs = backup.durationMs;
    out.backupId = backup.id;
    if (!backup.ok) {
      out.problems.push(...backup.components.filter((c) => !c.ok).map((c) => `backup of blue: ${c.error}`));
      return out;
    }
    const manifest = await loadManifest(o.store, o.location, backup.id);
    const greenStack = withComponent(o.stack, o.green);
    const restored = await runRestore({
      stack: greenStack,
      manifest,
      components: [o.blue.name],
      target: o.dest,
      store: o.store,
      location: o.location,
      options: { clean: false, rename: new Map(), noGlobals: false },
      log,
    });
    out.restoreMs = restored.durationMs;
    for (const c of restored.components.filter((x) => !x.ok))
      out.problems.push(`restore into green: ${c.error}`);
    if (!restored.ok) return out;
    const record = manifest.components.find((c) => c.component === o.blue.name)!;
    const fingerprint = SOURCES.get(record.type)?.fingerprint;
    if (fingerprint) {
      const expected = await fingerprint({
        component: o.blue,
        spec,
        record,
        rename: new Map(),
        target: o.source,
      });
      const actual = await fingerprint({
        component: o.green,
        spec,
        record,
        rename: new Map(),
        target: o.dest,
      });
      out.compared = expected.size;
      out.differences = compareFingerprints(expected, actual);
      if (out.differences.length) out.problems.push(`green differs from blue: ${out.differences.join('; ')}`);
    }
    out.compare = await compareChecks(o);
    for (const c of out.compare.filter((x) => !x.ok))
      out.problems.push(
        `${o.blue.name}/${c.check}: blue answers ${c.blue ?? '(nothing)'}, green ${c.green ?? '(nothing)'}`,
      );
    out.greenVerify = await verifyStack({
      stack: greenStack,
      components: [o.green],
      target: o.dest.kind,
      access: o.dest,
      timeoutMs: o.timeoutMs,
      namespaceChecks: false,
    });
    for (const r of out.greenVerify.results.filter((x) => x.status === 'fail'))
      out.problems.push(`green ${r.component}/${r.check}: ${r.message}`);
  } catch (err) {
    out.problems.push(errorMessage(err));
  }
  out.ok = out.problems.length === 0;
  return out;
}

/** Each `upgrade.compare` check on blue and on green: both must pass with the same answer. */
async function compareChecks(o: FillOptions): Promise<CompareResult[]> {
  const checks = o.blue.upgrade?.compare ?? [];
  if (!checks.length) return [];
  const run = (c: Component, access: TargetAccess) =>
    verifyStack({
      stack: withComponent(o.stack, c),
      components: [{ ...c, checks }],
      target: access.kind,
      access,
      timeoutMs: o.timeoutMs,
      namespaceChecks: false,
    });
  const [blue, green] = await Promise.all([run(o.blue, o.source), run(o.green, o.dest)]);
  return checks.map((c) => {
    const b = blue.results.find((r) => r.check === c.name);
    const g = green.results.find((r) => r.check === c.name);
    return {
      check: c.name,
      ...(b?.actual !== undefined ? { blue: b.actual } : {}),
      ...(g?.actual !== undefined ? { green: g.actual } : {}),
      ok: b?.status === 'pass' && g?.status === 'pass' && b.actual === g.actual,
    };
  });
}

/** Switch only when green holds what blue held and answers as blue did (pure). */
export const mayFinishFill = (f: FillOutcome): boolean => f.ok && f.problems.length === 0;

/** The write window in words, from the measured times. */
export function windowText(openedAt: number, closedAt: number): string {
  const s = ((closedAt - openedAt) / 1000).toFixed(1);
  return `write window ${s}s (${new Date(openedAt).toISOString()} → ${new Date(closedAt).toISOString()}): writes to blue in it are not in green`;
}

export interface FillAndSwitch {
  fill: FillOutcome;
  switched: boolean;
  /** Backup start → switch (or → the decision not to switch). */
  windowMs: number;
  window: string;
  /** Set when the switch edge itself failed. */
  switchError?: string;
}

/**
 * Fill green, decide, and only on a clean fill call `switchService` (the edge that points the main
 * Service at green). The window closes when the switch has happened.
 */
export async function fillAndSwitch(
  o: FillOptions,
  switchService: () => Promise<void>,
  now: () => number = Date.now,
): Promise<FillAndSwitch> {
  const fill = await fillGreen(o);
  let switched = false;
  let switchError: string | undefined;
  if (mayFinishFill(fill)) {
    try {
      await switchService();
      switched = true;
    } catch (err) {
      switchError = errorMessage(err);
    }
  }
  const closedAt = now();
  return {
    fill,
    switched,
    windowMs: closedAt - fill.windowOpenedAt,
    window: windowText(fill.windowOpenedAt, closedAt),
    ...(switchError ? { switchError } : {}),
  };
}
