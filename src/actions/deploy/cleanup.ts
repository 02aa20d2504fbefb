/** Post step of the deploy action: delete the kind cluster unless keep-cluster — also after a failure. */
import * as core from '@actions/core';
import { bool } from '../../app/settings.ts';
import { KindCli } from '../../kind/kind.ts';
import { fail, input } from '../inputs.ts';
import { STATE } from '../state.ts';

export async function run(): Promise<void> {
  try {
    const kindPath = core.getState(STATE.kindPath);
    const name = core.getState(STATE.clusterName);
    if (!kindPath || !name) return core.info('no kind cluster was created: nothing to clean up');
    if (bool(input('keep-cluster'))) return core.info(`keeping kind cluster ${name} (keep-cluster: true)`);
    try {
      await new KindCli(kindPath).delete(name);
      core.info(`deleted kind cluster ${name}`);
    } catch (err) {
      // cleanup must not fail the job on a self-hosted runner where the cluster is already gone
      core.warning(`could not delete kind cluster ${name}: ${(err as Error).message}`);
    }
  } catch (err) {
    fail(err);
  }
}
