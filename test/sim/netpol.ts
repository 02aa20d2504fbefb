/**
 * Simulation (test infrastructure): NetworkPolicy enforcement on the simulated node, as kind's
 * kindnetd does it since kind v0.24.0 (kubernetes-sigs/kind images/kindnetd/cmd/kindnetd/main.go
 * starts the kube-network-policies controller, which drops packets the policies refuse). Here the
 * decision is kindling's own evaluator (src/security/evaluate.ts, written from the NetworkPolicy docs
 * and API reference) over the stored NetworkPolicies, pods and namespaces; the enforcement is real
 * kernel filtering: an nftables input chain in each destination pod's network namespace accepts the
 * (source pod IP, port) pairs the evaluator allows and drops the rest, so a refused `nc -z -w 3`
 * times out as it does on kind.
 *
 * Limits (said in README.md): TCP only; the ports considered are the destination's declared
 * container ports (an isolated pod refuses undeclared ports even to a rule without `ports`); ipBlock
 * never matches a pod (as the evaluator); traffic from the node (10.244.0.1) and the pod's own
 * loopback (kubelet probes, exec, port-forward) is always allowed, the docs' stated exceptions.
 */
import type { KubeObject } from '../../src/manifests/render.ts';
import { evaluate, namespaceLabelsFrom, readPolicies } from '../../src/security/evaluate.ts';
import type { PodPort } from '../../src/security/model.ts';
import { matches } from '../../src/security/selectors.ts';
import type { Obj } from './apiserver.ts';

/** The node's address on the pod bridge (runtime.ts SimNode). */
export const NODE_IP = '10.244.0.1';
export const TABLE = 'kindling_netpol';

function declaredPorts(pod: Obj): PodPort[] {
  return (pod.spec?.containers ?? []).flatMap((c: Obj) =>
    (c.ports ?? []).map((p: Obj) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.containerPort,
      protocol: p.protocol ?? 'TCP',
    })),
  );
}

/**
 * The nftables ruleset for each running pod (by uid): undefined when nothing may be refused to it
 * (no filter). Pure: decided from the API objects alone.
 */
export function podFilters(
  pods: Obj[],
  policyObjects: Obj[],
  namespaces: Obj[],
): Map<string, string | undefined> {
  const policies = readPolicies(policyObjects as KubeObject[], 'default');
  const nsLabels = namespaceLabelsFrom(namespaces as KubeObject[]);
  const running = pods.filter((p) => p.status?.podIP && p.metadata?.uid);
  const out = new Map<string, string | undefined>();
  for (const dst of running) {
    const ports = declaredPorts(dst).filter((p) => p.protocol === 'TCP');
    const dstEnd = { namespace: dst.metadata.namespace, labels: dst.metadata.labels ?? {}, ports };
    // isolated for ingress: a policy of its namespace with Ingress selects it (evaluate.ts' rule)
    const isolated = policies.some(
      (p) =>
        p.namespace === dstEnd.namespace && p.types.has('Ingress') && matches(p.podSelector, dstEnd.labels),
    );
    const accept: string[] = [];
    const drop: string[] = [];
    for (const src of running) {
      if (src === dst) continue;
      const srcEnd = { namespace: src.metadata.namespace, labels: src.metadata.labels ?? {} };
      for (const port of ports) {
        const rule = `ip saddr ${src.status.podIP} tcp dport ${port.port}`;
        const { verdict } = evaluate(policies, nsLabels, srcEnd, dstEnd, port);
        (verdict.allowed ? accept : drop).push(rule);
      }
    }
    if (!isolated && drop.length === 0) {
      out.set(dst.metadata.uid, undefined);
      continue;
    }
    const lines = [
      `table inet ${TABLE} {`,
      '  chain ingress {',
      '    type filter hook input priority 0; policy accept;',
      '    ct state established,related accept',
      '    iif "lo" accept',
      `    ip saddr ${NODE_IP} accept`,
      ...(isolated ? accept.map((r) => `    ${r} accept`) : drop.map((r) => `    ${r} drop`)),
      ...(isolated ? ['    meta l4proto tcp drop'] : []),
      '  }',
      '}',
    ];
    out.set(dst.metadata.uid, `${lines.join('\n')}\n`);
  }
  return out;
}
