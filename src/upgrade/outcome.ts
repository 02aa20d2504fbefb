/** What `kindling upgrade` did to one component (the app produces it, the reports read it). */
import type { VerifyReport } from '../report/results.ts';
import type { ComponentChange } from './diff.ts';

export type UpgradeState =
  | 'upgraded'
  | 'rolled-back'
  | 'rollback-failed'
  | 'switched'
  | 'switched-back'
  | 'failed'
  | 'finished'
  | 'skipped';

export interface ComponentUpgrade {
  component: string;
  strategy: ComponentChange['strategy'] | 'finish';
  images: { workload: string; container: string; from?: string; to: string }[];
  state: UpgradeState;
  /** ms from the apply until the new version was ready. */
  timeToReadyMs?: number;
  /** Verify of the new version (green through its own Service, or the rolled component). */
  verify?: VerifyReport;
  /** Verify after the rollback / the switch (back). */
  after?: VerifyReport;
  reasons: string[];
  /** What is on the cluster now, when the upgrade did not end cleanly. */
  remaining: string[];
  notes: string[];
  /** dump-restore: backup start → switch, ms. */
  windowMs?: number;
}

export const upgradeOk = (u: ComponentUpgrade): boolean =>
  u.state === 'upgraded' || u.state === 'switched' || u.state === 'finished';
