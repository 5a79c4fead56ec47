/**
 * What a task gets back (docs/API.md, "Replies"): stream deltas, then one result
 * or one error. Schemas and the types derived from them (#19); agent/task replies
 * build these types, `reasond ask` and the tests read them.
 */
import type { FromSchema } from 'json-schema-to-ts';

/** The stable error codes of the task wire (core/errors.ts has these and the non-wire ones). */
export const WIRE_ERROR_CODES = [
  'invalid_request', 'payload_too_large', 'context_overflow', 'busy', 'thermal_throttled', 'deadline_exceeded', 'cancelled', 'model_unavailable', 'internal',
] as const;

const taskId = { type: 'string', description: 'the task id' } as const;
const createdAt = { type: 'integer', description: 'epoch ms when the reply was made (kept when it waited in the outbox)' } as const;
const replayed = { const: true, description: 'only on a repeated task id answered from the journal' } as const;
const signature = {
  type: 'object', additionalProperties: false, required: ['key_id', 'sig'],
  description: "the answering device's Ed25519 signature of the reply without this field (keys sorted at every level); checked against `answer_key` in that device's status",
  properties: { key_id: { type: 'string' }, sig: { type: 'string', description: 'base64' } },
} as const;

export const deltaSchema = {
  title: 'Delta',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'channel', 'seq', 'text'],
  properties: {
    id: taskId,
    type: { const: 'delta' },
    channel: { enum: ['reasoning', 'answer'], description: 'which text it extends' },
    seq: { type: 'integer', minimum: 0, description: "0, 1, 2, ... across both channels; concatenating a channel's deltas in `seq` order gives the result's text" },
    text: { type: 'string', description: 'new text (may be empty when a token ends inside a UTF-8 character)' },
  },
} as const;

export const resultSchema = {
  title: 'Result',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'status', 'answer', 'reasoning', 'finish_reason', 'usage', 'timing', 'model', 'device', 'created_at'],
  properties: {
    id: taskId,
    type: { const: 'result' },
    status: { const: 'ok' },
    answer: { type: 'string', description: 'the answer, reasoning excluded' },
    reasoning: { type: 'string', description: 'the reasoning (empty with `reasoning.include: false` or a model that does not reason)' },
    finish_reason: { enum: ['stop', 'length', 'budget', 'deadline', 'cancelled'], description: 'eos or stop string; `max_new_tokens` or the context window; the reasoning budget; the deadline' },
    usage: {
      type: 'object', additionalProperties: false, required: ['prompt_tokens', 'reasoning_tokens', 'answer_tokens', 'completion_tokens'],
      properties: {
        prompt_tokens: { type: 'integer', description: 'tokens of the prompt after the chat template' },
        reasoning_tokens: { type: 'integer', description: 'tokens of the reasoning' },
        answer_tokens: { type: 'integer', description: 'tokens of the answer' },
        completion_tokens: { type: 'integer', description: 'everything generated, markers and eos included' },
      },
    },
    timing: {
      type: 'object', additionalProperties: false, required: ['queue_ms', 'first_token_ms', 'prefill_ms', 'total_ms', 'prefill_tokens_per_s', 'decode_tokens_per_s'],
      properties: {
        queue_ms: { type: 'number', description: 'arrival to start' },
        first_token_ms: { type: 'number', description: 'start to the first generated token' },
        prefill_ms: { type: 'number', description: 'reading the prompt' },
        total_ms: { type: 'number', description: 'start to the end' },
        prefill_tokens_per_s: { type: 'number', description: 'prompt tokens per second' },
        decode_tokens_per_s: { type: 'number', description: 'generated tokens per second after the first' },
      },
    },
    model: {
      type: 'object', additionalProperties: false, required: ['name', 'dtype', 'file'], description: 'the model that answered',
      properties: { name: { type: 'string' }, version: { type: 'string' }, dtype: { type: 'string' }, file: { type: 'string' } },
    },
    device: { type: 'string', description: 'the agent that answered' },
    thermal: {
      type: 'object', description: 'only when the thermal guard was soft as the task started: `{state: "soft", pause_ms, step_pause_ms, reasoning_budget_tokens}`',
    },
    created_at: createdAt,
    replayed,
    signature,
  },
} as const;

export const errorSchema = {
  title: 'Error',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'status', 'error', 'device', 'created_at'],
  properties: {
    id: { type: ['string', 'null'], description: 'the task id (null when it could not be read)' },
    type: { const: 'error' },
    status: { const: 'error' },
    error: {
      type: 'object', additionalProperties: false, required: ['code', 'message'],
      properties: {
        code: { enum: WIRE_ERROR_CODES, description: 'one of the [codes](#error-codes)' },
        message: { type: 'string', description: 'what is wrong, naming the field and the value' },
      },
    },
    retry_after_ms: { type: 'integer', minimum: 0, description: 'present where retrying later helps (`busy`, `thermal_throttled`)' },
    device: { type: 'string', description: 'the agent' },
    created_at: createdAt,
    replayed,
    signature,
  },
} as const;

export type DeltaMessage = FromSchema<typeof deltaSchema>;
export type ResultMessage = FromSchema<typeof resultSchema>;
export type ErrorMessage = FromSchema<typeof errorSchema>;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];
