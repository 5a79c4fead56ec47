/**
 * The <base>/<device>/events messages: one schema per `type`. The controller's
 * registry folds model_update events into its device rows.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { WIRE_ERROR_CODES } from './replies.js';
import { THERMAL_STATES } from './metrics.js';
import { jobAlertEventSchema } from './jobs.js';

export const taskRejectedSchema = {
  title: 'task_rejected',
  type: 'object', additionalProperties: false, required: ['type', 'id', 'topic', 'error', 'created_at'],
  description: 'a task that could not be answered on a reply topic',
  properties: {
    type: { const: 'task_rejected' },
    id: { type: ['string', 'null'], description: 'the task id, when it could be read' },
    topic: { type: 'string', description: 'the topic the task came on' },
    error: {
      type: 'object', additionalProperties: false, required: ['code', 'message'],
      properties: { code: { enum: WIRE_ERROR_CODES }, message: { type: 'string' } },
    },
    created_at: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export const thermalEventSchema = {
  title: 'thermal',
  type: 'object', required: ['type', 'from', 'to', 'reason', 'at', 'limits', 'device'],
  description: 'the thermal guard changed state',
  properties: {
    type: { const: 'thermal' },
    from: { enum: THERMAL_STATES }, to: { enum: THERMAL_STATES },
    reason: { type: 'string', description: 'what moved it: temperature or the board\'s own throttling flags' },
    at: { type: 'string', description: 'ISO 8601' },
    temp_c: { type: 'number' }, zone: { type: 'string' },
    limits: { type: 'object', description: '`soft_c`, `hard_c`, `hysteresis_c`' },
    policy: { type: 'object', description: 'what the agent does in the new state' },
    device: { type: 'string' },
  },
} as const;

export const boardThrottlingSchema = {
  title: 'board_throttling',
  type: 'object', required: ['type', 'raw', 'now', 'since_boot', 'at', 'device'],
  description: "the Raspberry Pi firmware's throttling flags changed",
  properties: {
    type: { const: 'board_throttling' }, raw: { type: 'string' }, now: { type: 'object' }, since_boot: { type: 'object' },
    at: { type: 'string', description: 'ISO 8601' }, device: { type: 'string' },
  },
} as const;

export const memoryEventSchema = {
  title: 'memory',
  type: 'object', required: ['type', 'from', 'to', 'available_bytes', 'total_bytes', 'at', 'device'],
  description: 'memory pressure started or stopped',
  properties: {
    type: { const: 'memory' }, from: { enum: ['normal', 'pressure'] }, to: { enum: ['normal', 'pressure'] },
    available_bytes: { type: 'number' }, total_bytes: { type: 'number' }, at: { type: 'string', description: 'ISO 8601' }, device: { type: 'string' },
  },
} as const;

export const UPDATE_STATES = ['downloading', 'verifying', 'probing', 'switching', 'active', 'rejected', 'rolled_back'] as const;

export const modelUpdateSchema = {
  title: 'model_update',
  type: 'object', additionalProperties: false, required: ['type', 'state', 'name', 'version', 'ts'],
  description: 'a deploy, an activation or a rollback moved on (docs/packages.md)',
  properties: {
    type: { const: 'model_update' },
    state: { enum: UPDATE_STATES },
    name: { type: 'string' }, version: { type: 'string' },
    percent: { type: 'number', description: 'download progress' },
    reason: { type: 'string', description: 'a rejection reason for rejected; why, for rolled_back' },
    message: { type: 'string' },
    to: { type: ['string', 'null'], description: 'for rolled_back: the version now serving (null = the configured model)' },
    ts: { type: 'integer', description: 'epoch ms' },
  },
} as const;

export const eventSchemas = [taskRejectedSchema, thermalEventSchema, boardThrottlingSchema, memoryEventSchema, modelUpdateSchema, jobAlertEventSchema] as const;

export type TaskRejectedEvent = FromSchema<typeof taskRejectedSchema>;
export type ModelUpdateEvent = FromSchema<typeof modelUpdateSchema>;
export type UpdateState = (typeof UPDATE_STATES)[number];
