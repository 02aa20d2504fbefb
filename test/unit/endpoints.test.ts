import { describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/index.ts';
import { parseEndpointFlags } from '../../src/targets/endpoints.ts';
import { UsageError } from '../../src/util/errors.ts';

const stack = loadStack('manifests/stack.yaml');

describe('--endpoint NAME=URL', () => {
  it('maps a component to its default endpoint and COMPONENT.ENDPOINT to that one', () => {
    const m = parseEndpointFlags(stack, [
      'postgres=postgresql://postgres:pw@127.0.0.1:5432/postgres',
      'milvus.grpc=tcp://127.0.0.1:19530',
    ]);
    expect([...m.keys()]).toEqual(['postgres.sql', 'milvus.grpc']);
    expect(m.get('postgres.sql')?.port).toBe('5432');
  });

  it.each([
    ['postgres', /must be NAME=URL/],
    ['nosuch=http://x', /unknown component "nosuch"/],
    ['milvus.nope=http://x', /no endpoint "nope"/],
    ['redis=not a url', /malformed URL/],
  ])('rejects %j as a usage error', (flag, message) => {
    expect(() => parseEndpointFlags(stack, [flag])).toThrow(UsageError);
    expect(() => parseEndpointFlags(stack, [flag])).toThrow(message);
  });

  it('never echoes a password in its errors', () => {
    try {
      parseEndpointFlags(stack, ['postgres:topsecret@127.0.0.1']);
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain('topsecret');
    }
  });
});
