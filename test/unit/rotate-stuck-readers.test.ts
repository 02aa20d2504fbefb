/**
 * stuckReaders (src/rotate/kube.ts): which reader pods kindling deletes while a rotation's restart
 * rolls — only an OrderedReady StatefulSet's own pods, still on the revision before the restart, not
 * Ready and not already terminating (stateful_set_control.go updateStatefulSet stops at such a pod
 * when pods are managed in order; docs "StatefulSets", Forced rollback).
 */
import { describe, expect, it } from 'vitest';
import { mayStick, stuckReaders } from '../../src/rotate/kube.ts';

const set = (policy?: string) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'nacos', uid: 'u-set' },
  spec: { ...(policy ? { podManagementPolicy: policy } : {}) },
  status: { updateRevision: 'nacos-old' },
});
const pod = (name: string, rev: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
  metadata: {
    name,
    labels: { 'controller-revision-hash': rev },
    ownerReferences: [{ uid: 'u-set' }],
    ...extra,
  },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('stuckReaders', () => {
  const pods = [
    pod('nacos-0', 'nacos-old', false),
    pod('nacos-1', 'nacos-new', false),
    pod('nacos-2', 'nacos-old', true),
    pod('nacos-3', 'nacos-old', false, { deletionTimestamp: '2026-12-01T00:00:00Z' }),
    { ...pod('other-0', 'nacos-old', false), metadata: { name: 'other-0', labels: {}, ownerReferences: [] } },
  ];

  it('OrderedReady (also the default): the unready pods on the retired revision, nothing else', () => {
    for (const s of [set(), set('OrderedReady')])
      expect(stuckReaders(s, pods, 'nacos-old').map((p) => p.metadata.name)).toEqual(['nacos-0']);
  });

  it('Parallel sets and Deployments replace such pods themselves; no retired revision, nothing', () => {
    expect(stuckReaders(set('Parallel'), pods, 'nacos-old')).toEqual([]);
    expect(mayStick({ kind: 'Deployment', spec: {} })).toBe(false);
    expect(stuckReaders(set(), pods, undefined)).toEqual([]);
  });
});
