/**
 * The task message (<base>/<device>/task, <base>/pool/<pool>/task): its JSON schema,
 * and the TypeScript type derived from it (#19), so the validator, the agent, `reasond
 * ask`, the tests and docs/API.md read one definition. Limits that depend on the
 * agent's config (max_new_tokens_limit) are set by taskSchemaWith().
 */
import type { FromSchema } from 'json-schema-to-ts';

export const MAX_ID_LENGTH = 128;
export const MAX_MESSAGES = 64;
export const MAX_STOP = 16;
export const MAX_PRIORITY = 9;
export const MAX_DEADLINE_MS = 24 * 3600 * 1000;
/** The highest max_new_tokens_limit the config accepts: the schema's bound before the agent's own limit is set. */
export const MAX_NEW_TOKENS_CEILING = 1_000_000;

export const taskSchema = {
  title: 'Task',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9._:@/-]+$', description: "the task's identity: replies carry it, and a task id seen before is answered from the journal (see [Delivery](#delivery-guarantees))" },
    prompt: { type: 'string', minLength: 1, description: 'one user message' },
    messages: {
      type: 'array', minItems: 1, maxItems: MAX_MESSAGES, description: "a chat (`role` is `system`, `user` or `assistant`; `content` a string); the model's chat template formats it",
      items: {
        type: 'object', additionalProperties: false, required: ['role', 'content'],
        properties: { role: { enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } },
      },
    },
    max_new_tokens: { type: 'integer', minimum: 1, maximum: MAX_NEW_TOKENS_CEILING, description: "most tokens generated, reasoning and answer together; default `default_max_new_tokens` (512), at most `max_new_tokens_limit` (4096) and the model's context window" },
    reasoning: {
      type: 'object', additionalProperties: false,
      properties: {
        budget_tokens: { type: 'integer', minimum: 0, maximum: MAX_NEW_TOKENS_CEILING, description: 'reasoning tokens after which the engine closes the thinking itself (`finish_reason: budget`); at most `max_new_tokens_limit`' },
        include: { type: 'boolean', default: true, description: 'whether `reasoning` text is returned (it is always counted)' },
      },
    },
    temperature: { type: 'number', minimum: 0, maximum: 10, description: "0 is greedy; default the model's `generation_config.json` if it samples, else 0" },
    top_k: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0, description: 'sample among the k most likely tokens (0 = off)' },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'nucleus sampling (1 = off)' },
    repetition_penalty: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 1, description: 'the Hugging Face rule (1 = off)' },
    seed: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1, description: 'makes sampling reproducible; default random' },
    stop: { type: 'array', maxItems: MAX_STOP, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'stop strings of 1-256 characters: any one ends the answer (`finish_reason: stop`)' },
    stream: { type: 'boolean', default: false, description: 'send [deltas](#delta) before the final reply' },
    priority: { type: 'integer', minimum: 0, maximum: MAX_PRIORITY, default: 0, description: 'higher runs first; equal priorities run in arrival order' },
    deadline_ms: { type: 'integer', minimum: 1, maximum: MAX_DEADLINE_MS, description: 'milliseconds from arrival; a task still waiting when it passes is answered `deadline_exceeded` and not run; a running one stops (`finish_reason: deadline`)' },
    reply_to: { type: 'string', minLength: 1, maxLength: 1024, description: 'where replies go when the task has no MQTT 5 Response Topic: a topic without `+`, `#`, not starting with `$`' },
  },
} as const;

/** A task as it arrived and passed the schema. */
export type TaskRequest = FromSchema<typeof taskSchema>;

export interface TaskLimits {
  max_new_tokens_limit: number;
}

/** The schema with the agent's own max_new_tokens_limit in place of the ceiling. */
export function taskSchemaWith(l: TaskLimits) {
  const p = taskSchema.properties;
  return {
    ...taskSchema,
    properties: {
      ...p,
      max_new_tokens: { ...p.max_new_tokens, maximum: l.max_new_tokens_limit },
      reasoning: { ...p.reasoning, properties: { ...p.reasoning.properties, budget_tokens: { ...p.reasoning.properties.budget_tokens, maximum: l.max_new_tokens_limit } } },
    },
  };
}
