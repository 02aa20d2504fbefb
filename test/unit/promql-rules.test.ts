import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LabelSet, outputLabels, promqlErrors } from '../../src/manifests/promql.ts';
import { validateStack } from '../../src/manifests/validate.ts';
import { brokenCopy, lineOf } from './promql-helpers.ts';
import { describeWithKubectl } from './validate-helpers.ts';

const keeps = (l: LabelSet, label: string) => (l.kind === 'all' ? !l.except.has(label) : l.labels.has(label));

describe("PromQL with Prometheus' own grammar (@prometheus-io/lezer-promql)", () => {
  it('accepts the forms the stack uses and rejects broken ones with a position', () => {
    expect(
      promqlErrors('sum by (service, pod) (a) > on (service, pod) 0.8 * max by (service, pod) (b)'),
    ).toEqual([]);
    expect(promqlErrors('histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))')).toEqual([]);
    expect(promqlErrors('rate(x[5m]')).toEqual([{ at: 10, message: 'the expression ends too early' }]);
    expect(promqlErrors('sum by (pod) (x) >> 3')[0]!.message).toMatch(/^unexpected/);
  });

  // semantics of prometheus/prometheus promql/engine.go (aggregation grouping, resultMetric for
  // one-to-one matching with on/ignoring, absent() taking its equality matchers)
  it.each([
    ['up == 0', true],
    ['sum(rate(x[5m])) > 1', false],
    ['sum by (pod) (x) > 1', false],
    ['sum by (service, pod) (x) > 1', true],
    ['sum without (instance) (x)', true],
    ['sum without (service) (x)', false],
    ['a / on (pod) b', false],
    ['a / on (service, pod) b', true],
    ['a / ignoring (service) b', false],
    ['a / on (pod) group_left b', true],
    ['topk(3, x)', true],
    ['absent(up{service="postgres"})', true],
    ['absent(up{job="x"})', false],
    ['vector(1)', false],
    ['histogram_quantile(0.99, sum by (service, le) (rate(x_bucket[5m])))', true],
    ['(sum by (service) (a) > 3) and sum by (service) (b) > 1', true],
    ['sum by (service) (a) or sum by (pod) (b)', false],
  ])('%s keeps "service": %s', (expr, expected) => {
    expect(keeps(outputLabels(expr), 'service')).toBe(expected);
  });
});

describeWithKubectl(
  'kindling validate: rule expressions and Alertmanager routing in the stack’s manifests',
  () => {
    const RULES = 'base/monitoring-rules.yaml';

    it('the stack as committed has no rule or routing problem', async () => {
      const { problems } = await validateStack({
        catalog: resolve(import.meta.dirname, '../../manifests/stack.yaml'),
      });
      expect(problems.filter((p) => p.rule === 'promql' || p.rule === 'alert-routing')).toEqual([]);
    });

    it('an alert whose aggregation drops "service" is an error at its rule, naming the grouping', async () => {
      const b = brokenCopy(
        RULES,
        'sum by (service, pod) (rate(redis_commands_processed_total[5m]))',
        'sum by (pod) (rate(redis_commands_processed_total[5m]))',
      );
      try {
        const found = (await validateStack({ catalog: b.catalog })).problems.filter(
          (p) => p.rule === 'alert-routing',
        );
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({ severity: 'error', line: lineOf(b.file, '- alert: RedisQPSHigh') });
        expect(found[0]!.message).toContain('no "service" label');
        expect(found[0]!.message).toContain('groups by alertname, cluster, service');
      } finally {
        b.cleanup();
      }
    });

    it('a severity no route or inhibition matches is a warning at its rule', async () => {
      const b = brokenCopy(
        RULES,
        'for: 15m\n            labels: { severity: critical, service: kafka }',
        'for: 15m\n            labels: { severity: crit, service: kafka }',
      );
      try {
        const found = (await validateStack({ catalog: b.catalog })).problems.filter(
          (p) => p.rule === 'alert-routing',
        );
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({
          severity: 'warning',
          line: lineOf(b.file, '- alert: KafkaBacklogHigh'),
        });
        expect(found[0]!.message).toContain('severity="crit" matches no route or inhibition');
      } finally {
        b.cleanup();
      }
    });

    it('a route to a receiver that is not defined is an error in the Alertmanager configuration', async () => {
      const b = brokenCopy('base/alertmanager.yaml', 'receiver: oncall\n', 'receiver: on-call\n');
      try {
        const found = (await validateStack({ catalog: b.catalog })).problems.filter(
          (p) => p.rule === 'alert-routing',
        );
        expect(found.map((p) => p.message)).toEqual([
          expect.stringContaining('receiver "on-call", which is not defined'),
        ]);
        expect(found[0]!.file).toMatch(/base\/alertmanager\.yaml$/);
      } finally {
        b.cleanup();
      }
    });

    it('a broken panel query of a provisioned dashboard is an error at its line in the JSON', async () => {
      const b = brokenCopy(
        'base/dashboards.yaml',
        '"expr": "kafka_brokers{service=\\"kafka-exporter\\"}"',
        '"expr": "kafka_brokers{service=\\"kafka-exporter\\""',
      );
      try {
        const found = (await validateStack({ catalog: b.catalog })).problems.filter(
          (p) => p.rule === 'promql',
        );
        expect(found).toHaveLength(1);
        expect(found[0]!.file).toMatch(/base\/dashboards\.yaml$/);
        expect(found[0]!.line).toBe(lineOf(b.file, '"expr": "kafka_brokers{service=\\"kafka-exporter\\""'));
        expect(found[0]!.message).toContain('dashboard "Kafka"');
        expect(found[0]!.message).toContain('panel "Brokers"');
      } finally {
        b.cleanup();
      }
    });

    it('a syntax error inside a multi-line expression is reported at that very line', async () => {
      const b = brokenCopy(
        RULES,
        '/ sum by (service, pod) (rate(ClickHouseProfileEvents_Query[5m]) > 0) / 1e6 > 5',
        '/ sum by (service, pod) (rate(ClickHouseProfileEvents_Query[5m]) > 0) / / 1e6 > 5',
      );
      try {
        const found = (await validateStack({ catalog: b.catalog })).problems.filter(
          (p) => p.rule === 'promql',
        );
        expect(found).toHaveLength(1);
        expect(found[0]!.line).toBe(lineOf(b.file, '> 0) / / 1e6 > 5'));
        expect(found[0]!.message).toContain('ClickHouseQueryLatencyHigh');
      } finally {
        b.cleanup();
      }
    });
  },
);
