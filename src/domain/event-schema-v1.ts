/**
 * Version 1 of the event's JSON Schema, frozen as release 0.1 served it (DESIGN.md §14: a
 * version never changes; an incompatible change adds one). `GET /v1/schema/event.json?version=1`
 * serves it; src/domain/event-versions.ts lists it.
 */
export const EVENT_SCHEMA_V1: Readonly<Record<string, unknown>> = Object.freeze({
  type: 'object',
  required: ['type', 'deployment', 'service', 'environment'],
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      description: 'Idempotency key: the same id again is stored once',
    },
    type: {
      enum: [
        'deployment.requested',
        'deployment.started',
        'deployment.succeeded',
        'deployment.failed',
        'deployment.rolled_back',
        'deployment.canceled',
      ],
      description: 'What happened',
    },
    time: {
      type: 'string',
      format: 'date-time',
      description: 'When it happened (RFC 3339); default: receipt',
    },
    deployment: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,255}$',
      maxLength: 256,
      description: 'Groups the events of one deployment (a CI run id, say)',
    },
    service: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      maxLength: 63,
      description: 'Service name',
    },
    environment: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      maxLength: 63,
      description: 'Environment name',
    },
    version: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      description: 'Version deployed; required on the first event of a deployment',
    },
    commit: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      description: 'Commit deployed',
    },
    actor: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      description: 'Who deployed; default: the token name',
    },
    region: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      maxLength: 63,
      description: 'Region',
    },
    instance: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$',
      maxLength: 253,
      description: 'Instance',
    },
    cohort: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      maxLength: 63,
      description: 'Canary or blue-green cohort',
    },
    traffic: {
      type: 'number',
      minimum: 0,
      maximum: 100,
      description: 'Traffic share of the cohort, %',
    },
    kind: {
      enum: ['release', 'hotfix', 'config', 'migration', 'rollback'],
      description: 'Default: release',
    },
    build: {
      type: 'object',
      properties: {
        id: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          pattern: '^[^\\u0000-\\u001f\\u007f]*$',
          description: 'CI build id',
        },
        url: {
          type: 'string',
          format: 'uri',
          maxLength: 2048,
        },
        provider: {
          type: 'string',
          minLength: 1,
          maxLength: 64,
          pattern: '^[^\\u0000-\\u001f\\u007f]*$',
          description: 'CI provider',
        },
      },
      additionalProperties: false,
    },
    ticket: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      description: 'Change ticket',
    },
    labels: {
      type: 'object',
      patternProperties: {
        '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$': {
          type: 'string',
          maxLength: 256,
        },
      },
      maxProperties: 64,
    },
  },
  additionalProperties: false,
  $id: 'https://shiplog.dev/schema/event.json',
});
