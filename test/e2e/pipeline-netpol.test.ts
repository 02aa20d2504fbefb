/**
 * The e2e pipeline's NetworkPolicy step (pipeline.ts, netpol-probe.ts) can fail: on the simulated
 * cluster with enforcement off (test/sim/netpol.ts not installed, as a CNI without NetworkPolicy
 * support), the unlabelled busybox pod connects and the step says so in the workflow's words
 * (reusable-validate-deploy.yml: "connected to HOST:PORT, which the NetworkPolicies must refuse");
 * the pipeline stops there, as the job does.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PipelineResult, runPipeline } from './pipeline.ts';
import { describeWithSim } from './sim-available.ts';
import { summarize } from './summary.ts';

describeWithSim(
  'PR pipeline NetworkPolicy step without enforcement (stand-in cluster, policies not enforced)',
  () => {
    let r: PipelineResult;
    beforeAll(async () => {
      r = await runPipeline({ components: 'redis', verifyTimeout: '20s', sim: { networkPolicies: false } });
      console.log(summarize(r));
    }, 180_000);
    afterAll(() => r?.cleanup());

    it('the unlabelled pod connects, so the netpol step fails naming it, and nothing after it runs', () => {
      expect(r.steps.map((s) => `${s.name}:${s.ok}`)).toEqual([
        'validate:true',
        'deploy:true',
        'verify:true',
        'netpol:false',
      ]);
      expect(r.steps.at(-1)!.detail).toBe(
        '(unlabelled pod) connected to redis:6379, which the NetworkPolicies must refuse (no catalog edge from an unlabelled pod to redis)',
      );
      expect(r.ok).toBe(false);
    });
  },
);
