// Deploy's decision to keep the Secret keys kindling rotate set (src/kube/secret-keep.ts), pure: the
// live Secret's managedFields as the API server writes them (FieldsV1 `f:data` / `f:stringData`,
// sigs.k8s.io/structured-merge-diff fieldpath/serialize.go), the manifests' Secret as rendered.
import { describe, expect, it } from 'vitest';
import { keepRotatedKeys, keptNote, keysOwnedBy, secretReadNeeds } from '../../src/kube/secret-keep.ts';
import type { Plan } from '../../src/plan/order.ts';
import { ROTATE_FIELD_MANAGER } from '../../src/rotate/kube.ts';

const T = '2026-12-01T18:01:02Z';
const entry = (manager: string, fieldsV1: object, time = T) => ({
  manager,
  operation: 'Apply',
  apiVersion: 'v1',
  time,
  fieldsType: 'FieldsV1',
  fieldsV1,
});
const desired = (body: object): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'redis-secret', namespace: 'ns', labels: { a: 'b' } },
  type: 'Opaque',
  ...body,
});
const live = (data: Record<string, string>, managedFields: object[]) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'redis-secret', namespace: 'ns', managedFields },
  data,
});
const deployEntry = entry(
  'kindling',
  { 'f:stringData': { 'f:REDIS_PASSWORD': {}, 'f:OTHER': {} } },
  '2026-12-01T17:00:00Z',
);
const rotateEntry = entry(ROTATE_FIELD_MANAGER, { 'f:data': { 'f:REDIS_PASSWORD': {} } });

describe('deploy keeps the Secret keys kindling rotate set (pure)', () => {
  it('a key kindling-rotate owns in f:data leaves both stringData and data; the other keys and fields are applied', () => {
    const d = desired({ stringData: { REDIS_PASSWORD: '', OTHER: 'x' }, data: { REDIS_PASSWORD: 'AA==' } });
    const r = keepRotatedKeys(d, live({ REDIS_PASSWORD: 'cm90', OTHER: 'eA==' }, [deployEntry, rotateEntry]));
    expect(r.object).toEqual(desired({ stringData: { OTHER: 'x' } }));
    expect(r.kept).toEqual([{ keys: ['REDIS_PASSWORD'], manager: ROTATE_FIELD_MANAGER, time: T }]);
    expect(keptNote('redis-secret', r.kept)).toBe(
      `Secret redis-secret: kept REDIS_PASSWORD (rotated by kindling-rotate at ${T})`,
    );
    expect(d.stringData).toEqual({ REDIS_PASSWORD: '', OTHER: 'x' }); // the plan's object is not changed
  });

  it('ownership by f:stringData counts too; a map left empty is not applied at all', () => {
    const rotatedAsString = entry(ROTATE_FIELD_MANAGER, { 'f:stringData': { 'f:REDIS_PASSWORD': {} } });
    const r = keepRotatedKeys(
      desired({ stringData: { REDIS_PASSWORD: '' } }),
      live({ REDIS_PASSWORD: 'cm90' }, [rotatedAsString]),
    );
    expect(r.object).toEqual(desired({}));
    expect(r.kept.map((k) => k.keys)).toEqual([['REDIS_PASSWORD']]);
  });

  it('nothing to keep: no live Secret, no rotation entry, a key the live Secret no longer holds, a rotated key the manifests no longer set, or not a Secret', () => {
    const d = desired({ stringData: { REDIS_PASSWORD: '' } });
    expect(keepRotatedKeys(d, undefined)).toEqual({ object: d, kept: [] });
    expect(keepRotatedKeys(d, live({ REDIS_PASSWORD: 'AA==' }, [deployEntry]))).toEqual({
      object: d,
      kept: [],
    });
    expect(keepRotatedKeys(d, live({}, [rotateEntry]))).toEqual({ object: d, kept: [] });
    const other = desired({ stringData: { OTHER: 'x' } });
    // rotated, then removed from the manifests: deploy never sends it, the rotation keeps owning it
    expect(keepRotatedKeys(other, live({ REDIS_PASSWORD: 'cm90' }, [rotateEntry]))).toEqual({
      object: other,
      kept: [],
    });
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'redis-secret' },
      data: { REDIS_PASSWORD: '' },
    };
    expect(keepRotatedKeys(cm, live({ REDIS_PASSWORD: 'cm90' }, [rotateEntry]))).toEqual({
      object: cm,
      kept: [],
    });
    expect(keptNote('redis-secret', [])).toBeUndefined();
  });

  it("the owned keys are read from every entry of the manager, with its latest time; other managers' entries do not count", () => {
    const owned = keysOwnedBy(
      live({}, [
        entry(ROTATE_FIELD_MANAGER, { 'f:data': { 'f:A': {} } }, '2026-12-01T10:00:00Z'),
        entry(ROTATE_FIELD_MANAGER, { 'f:data': { 'f:B': {} }, 'f:metadata': { 'f:labels': {} } }, T),
        entry('kindling', { 'f:data': { 'f:C': {} } }),
      ]),
      ROTATE_FIELD_MANAGER,
    );
    expect([...owned.keys].sort()).toEqual(['A', 'B']);
    expect(owned.time).toBe(T);
  });

  it('several kept keys are named once, sorted, with no value in the note', () => {
    const rot = entry(ROTATE_FIELD_MANAGER, { 'f:data': { 'f:B': {}, 'f:A': {} } });
    const r = keepRotatedKeys(
      desired({ stringData: { A: 'seed-a', B: 'seed-b', C: 'c' } }),
      live({ A: 'cm90LWE=', B: 'cm90LWI=', C: 'Yw==' }, [rot]),
    );
    const note = keptNote('s', r.kept)!;
    expect(note).toBe(`Secret s: kept A, B (rotated by kindling-rotate at ${T})`);
    expect(note).not.toMatch(/seed-|cm90/);
  });

  it('deploy needs get secrets in each namespace it applies a Secret to, and nothing when it applies none', () => {
    const plan = (objects: object[]) =>
      ({
        namespace: 'ns',
        shared: [],
        waves: [[{ name: 'redis', dependsOn: [], objects, waitFor: [] }]],
      }) as unknown as Plan;
    expect(
      secretReadNeeds(plan([desired({}), { ...desired({}), metadata: { name: 'x', namespace: 'other' } }])),
    ).toEqual([
      {
        verb: 'get',
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'ns',
        why: 'keep the keys kindling rotate set',
      },
      {
        verb: 'get',
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: 'other',
        why: 'keep the keys kindling rotate set',
      },
    ]);
    expect(secretReadNeeds(plan([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }]))).toEqual(
      [],
    );
  });
});
