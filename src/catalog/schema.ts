/** JSON Schema of the catalog file. Probe/backup parameters are checked by their own types. */
const duration = { type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$' };
const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const credential = {
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['secret', 'key'],
      properties: { secret: name, key: { type: 'string', minLength: 1 }, optional: { type: 'boolean' } },
    },
  ],
};

/**
 * A list of checks, backups or rotations: each names itself and its `type`, may pick an endpoint;
 * the rest of its keys are its type's parameters, checked by that type (open here).
 */
const typedItems = (common: Record<string, unknown>) => ({
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'type'],
    properties: { name, type: { type: 'string' }, endpoint: name, ...common },
  },
});

export const catalogSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'namespace', 'render', 'profiles', 'components'],
  properties: {
    apiVersion: { const: 'kindling.dev/v1alpha1' },
    kind: { const: 'Stack' },
    namespace: name,
    render: {
      type: 'object',
      additionalProperties: false,
      required: ['base', 'overlays'],
      properties: {
        base: { type: 'string' },
        overlays: { type: 'object', additionalProperties: { type: 'string' } },
        defaultSizing: { type: 'string' },
      },
    },
    shared: {
      type: 'object',
      additionalProperties: false,
      properties: { manifests: { type: 'array', items: { type: 'string' } } },
    },
    groups: { type: 'object', additionalProperties: { type: 'string' } },
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        defaultCredentials: { type: 'array', items: { type: 'string', minLength: 1 } },
        defaultCredentialsInPasswordFields: { type: 'array', items: { type: 'string', minLength: 1 } },
        strictSizings: { type: 'array', items: { type: 'string' } },
        dataDirectories: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['image', 'default'],
            properties: {
              image: { type: 'string', minLength: 1 },
              default: { type: 'string', pattern: '^/' },
              env: { type: 'string', minLength: 1 },
              arg: { type: 'string', pattern: '^-' },
            },
          },
        },
        network: {
          type: 'object',
          additionalProperties: false,
          properties: {
            metricsScraper: {
              type: 'object',
              additionalProperties: false,
              required: ['component', 'portAnnotation'],
              properties: {
                component: name,
                scrapeAnnotation: { type: 'string', minLength: 1 },
                portAnnotation: { type: 'string', minLength: 1 },
              },
            },
            clientNamespaces: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['namespace', 'components'],
                properties: { namespace: name, components: { type: 'array', items: name } },
              },
            },
            connections: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['from', 'to'],
                properties: {
                  from: name,
                  to: name,
                  why: { type: 'string' },
                  ports: {
                    type: 'array',
                    minItems: 1,
                    items: { type: 'integer', minimum: 1, maximum: 65535 },
                  },
                },
              },
            },
          },
        },
        hardening: {
          type: 'object',
          additionalProperties: false,
          properties: {
            spreadTopologyKey: { type: 'string', minLength: 1 },
            quorum: { type: 'array', items: name },
          },
        },
      },
    },
    profiles: {
      type: 'object',
      additionalProperties: { type: 'array', minItems: 1, items: name },
    },
    components: {
      type: 'object',
      minProperties: 1,
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'manifests', 'workloads'],
        properties: {
          group: name,
          description: { type: 'string' },
          manifests: { type: 'array', minItems: 1, items: { type: 'string' } },
          dependsOn: { type: 'array', items: name },
          readyTimeout: duration,
          host: {
            type: 'object',
            additionalProperties: false,
            required: ['sysctls'],
            properties: {
              sysctls: {
                type: 'object',
                minProperties: 1,
                propertyNames: { type: 'string', pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)+$' },
                additionalProperties: { type: 'integer', minimum: 0 },
              },
            },
          },
          upgrade: {
            type: 'object',
            additionalProperties: false,
            required: ['strategy'],
            properties: {
              strategy: { enum: ['rolling', 'blue-green', 'dump-restore'] },
              keepBlue: duration,
              majorOnly: { type: 'boolean' },
              backup: name,
              compare: typedItems({ timeout: duration }),
            },
          },
          workloads: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'name'],
              properties: { kind: { enum: ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'] }, name },
            },
          },
          services: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'ports'],
              properties: {
                name,
                ports: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 } },
              },
            },
          },
          endpoints: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'scheme', 'service', 'port'],
              properties: {
                name,
                scheme: { type: 'string', pattern: '^[a-z][a-z0-9+.-]*$' },
                service: name,
                port: { type: 'integer', minimum: 1, maximum: 65535 },
                path: { type: 'string' },
                username: credential,
                password: credential,
              },
            },
          },
          checks: typedItems({ target: { enum: ['kube', 'local'] }, timeout: duration }),
          backups: typedItems({}),
          rotation: typedItems({ user: { type: 'string', minLength: 1 }, secret: credential.oneOf[1] }),
        },
      },
    },
  },
} as const;
