import type { BackupSpec, Component } from '../catalog/types.ts';
import type { ComponentRecord } from './manifest.ts';

/** What a backup run produced (src/app/backup.ts runs it; report.ts formats it). */
/** One backup entry of one component, as selected for a run. */
export interface SelectedBackup {
  component: Component;
  spec: BackupSpec;
}

export interface ComponentOutcome {
  component: string;
  backup: string;
  type: string;
  ok: boolean;
  durationMs: number;
  error?: string;
  record?: ComponentRecord;
}

export interface BackupOutcome {
  id: string;
  ok: boolean;
  /** Set only when the manifest was written (every component succeeded). */
  manifestUri?: string;
  durationMs: number;
  components: ComponentOutcome[];
}
