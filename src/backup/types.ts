import type { BackupSpec, Component } from '../catalog/types.ts';
import type { S3Store } from '../store/s3.ts';
import type { StoreLocation } from '../store/url.ts';
import type { Target } from '../targets/types.ts';
import type { Compression } from './compression.ts';
import type { ArtifactRecord, BackupManifest, ComponentRecord } from './manifest.ts';
import type { Probe } from './pipeline.ts';
import type { CommandSpec } from './runner.ts';

/** Where the data is: the one Target verify uses too (src/targets/types.ts). */
export type TargetAccess = Target;

/** A problem with a backup's catalog parameters; `path` is below the backup entry. */
export interface ParamProblem {
  path: (string | number)[];
  message: string;
}

export interface BackupContext {
  component: Component;
  spec: BackupSpec;
  target: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  backupId: string;
  compression: Compression;
  /** Streams one command's stdout into the store as artifact `name` (compressed, hashed, checked). */
  artifact(
    name: string,
    opts: {
      /** The command whose stdout is the artifact… */
      command?: CommandSpec;
      /** …or an in-process producer (with `description` for the manifest). */
      produce?: (
        stdout: import('node:stream').Writable,
        signal: AbortSignal,
      ) => Promise<import('./runner.ts').CommandResult>;
      description?: string;
      format: string;
      probe?: Probe;
      meta?: Record<string, unknown>;
      compression?: Compression;
    },
  ): Promise<ArtifactRecord>;
  /** Key for an object this component stores itself (server-side copies). */
  keyFor(name: string): string;
  log(line: string): void;
}

export interface RestoreContext {
  component: Component;
  spec: BackupSpec;
  record: ComponentRecord;
  manifest: BackupManifest;
  target: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  /** Streams an artifact back, decompressed; rejects when its sha256 or size differs from the manifest. */
  open(artifact: ArtifactRecord): Promise<import('node:stream').Readable>;
  /**
   * Call once the reader of an opened artifact is done with it. Resolves when it was read to its
   * end with the right sha256; rejects otherwise, also when the reader stopped before the end
   * (the rest is dropped, not waited for). A tool's own failure is the better message: check its
   * exit status first.
   */
  verified(artifact: ArtifactRecord): Promise<void>;
  options: RestoreOptions;
  log(line: string): void;
}

export interface RestoreOptions {
  /** Replace existing data instead of refusing a non-empty target. */
  clean: boolean;
  /** `SRC=DEST` renames for database-like artifacts. */
  rename: Map<string, string>;
  /** Skip cluster-wide objects (PostgreSQL roles). */
  noGlobals: boolean;
  /** Scratch S3 server for object restores (drills): undefined = the component's own endpoint. */
  scratchDir?: string;
}

/** One kind of backup (`type:` in the catalog). Registered in sources/index.ts. */
export interface BackupSource {
  type: string;
  /** Checks the catalog parameters (pure). */
  validate(spec: BackupSpec, component: Component): ParamProblem[];
  backup(ctx: BackupContext): Promise<Omit<ComponentRecord, 'component' | 'backup' | 'type' | 'durationMs'>>;
  /** Checks the target can take the restore without changing it; returns problems (refusal reasons). */
  preflightRestore?(ctx: RestoreContext): Promise<string[]>;
  restore?(ctx: RestoreContext): Promise<string[]>;
  /**
   * Names a drill restores into (`SRC → DEST`, as `--database` renames), so a drill never touches
   * the source's own names even when scratch and source are one server (Elasticsearch indices).
   */
  drillRenames?(record: ComponentRecord): Map<string, string>;
  /** Facts to compare after a drill: e.g. per-table row counts, key counts and sampled values. */
  fingerprint?(ctx: {
    component: Component;
    spec: BackupSpec;
    target: TargetAccess;
    record: ComponentRecord;
    rename: Map<string, string>;
  }): Promise<Fingerprint>;
}

/** Comparable facts about restored data: `name → value`, compared entry by entry. */
export type Fingerprint = Map<string, string>;
