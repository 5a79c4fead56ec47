/** The retained <base>/<device>/status message: the birth (online), and offline as the last will or on a clean stop. */
import type { FromSchema } from 'json-schema-to-ts';

export const onlineStatusSchema = {
  title: 'Status (online)',
  type: 'object',
  additionalProperties: false,
  required: ['state', 'device', 'pool', 'agent_version', 'model', 'hardware', 'capabilities', 'started_at', 'ts'],
  properties: {
    state: { const: 'online' },
    device: { type: 'string', description: "the agent's device_id" },
    pool: { type: 'string', description: 'the pool whose shared task topic it serves' },
    agent_version: { type: 'string', description: "the agent's version" },
    model: {
      type: 'object', additionalProperties: false, required: ['name', 'version', 'dtype', 'file', 'sha256'], description: 'the model it serves',
      properties: { name: { type: 'string' }, version: { type: ['string', 'null'] }, dtype: { type: 'string' }, file: { type: 'string' }, sha256: { type: 'string' } },
    },
    hardware: {
      type: 'object', additionalProperties: false, required: ['arch', 'platform', 'kernel', 'cpu_model', 'cpus', 'memory_bytes'], description: '`arch`, `platform`, `kernel`, `cpu_model`, `cpus`, `memory_bytes`',
      properties: { arch: { type: 'string' }, platform: { type: 'string' }, kernel: { type: 'string' }, cpu_model: { type: 'string' }, cpus: { type: 'integer' }, memory_bytes: { type: 'integer' } },
    },
    capabilities: {
      type: 'object', additionalProperties: false, required: ['context_length', 'max_new_tokens_limit', 'reasoning', 'streaming', 'mqtt_version', 'execution_provider'],
      properties: {
        context_length: { type: 'integer', description: "the model's context window" },
        max_new_tokens_limit: { type: 'integer', description: 'the largest `max_new_tokens` a task may ask for' },
        reasoning: { type: 'boolean', description: 'whether the model reasons before it answers' },
        streaming: { type: 'boolean', description: 'deltas with `stream: true`' },
        mqtt_version: { type: 'integer', description: 'the protocol the agent is connected with (5 or 4)' },
        execution_provider: { type: 'string', description: 'the onnxruntime execution provider in use' },
      },
    },
    started_at: { type: 'integer', description: 'epoch ms the agent started; a new value is a restart' },
    answer_key: { type: 'string', description: "the Ed25519 public key (SPKI DER, base64) that signs this device's answers" },
    ts: { type: 'integer', description: 'epoch ms of this message' },
  },
} as const;

export const offlineStatusSchema = {
  title: 'Status (offline)',
  type: 'object',
  additionalProperties: false,
  required: ['state', 'device', 'agent_version', 'reason'],
  properties: {
    state: { const: 'offline' },
    device: { type: 'string', description: "the agent's device_id" },
    agent_version: { type: 'string', description: "the agent's version" },
    reason: { enum: ['stopped', 'connection lost'], description: '`connection lost` is the last will the broker sends; `stopped` a clean stop' },
    ts: { type: 'integer', description: 'epoch ms, on a clean stop' },
  },
} as const;

export type OnlineStatus = FromSchema<typeof onlineStatusSchema>;
export type OfflineStatus = FromSchema<typeof offlineStatusSchema>;
export type StatusMessage = OnlineStatus | OfflineStatus;
