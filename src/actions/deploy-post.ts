/** Post step of the deploy action: delete the kind cluster unless keep-cluster — also after a failure. */
import * as core from '@actions/core';
import { KindCli } from '../kind/kind.ts';
import { booleanInput } from './inputs.ts';

async function post(): Promise<void> {
  const kindPath = core.getState('kind-path');
  const name = core.getState('cluster-name');
  if (!kindPath || !name) return core.info('no kind cluster was created: nothing to clean up');
  if (booleanInput('keep-cluster', false))
    return core.info(`keeping kind cluster ${name} (keep-cluster: true)`);
  try {
    await new KindCli(kindPath).delete(name);
    core.info(`deleted kind cluster ${name}`);
  } catch (err) {
    // cleanup must not fail the job on a self-hosted runner where the cluster is already gone
    core.warning(`could not delete kind cluster ${name}: ${(err as Error).message}`);
  }
}

await post();
