/**
 * The task payload's JSON schema (docs/API.md is written from it). Limits
 * that depend on the agent's config come in as arguments.
 */
export interface TaskLimits {
  max_new_tokens_limit: number;
}

export const MAX_ID_LENGTH = 128;
export const MAX_MESSAGES = 64;
export const MAX_STOP = 16;
export const MAX_PRIORITY = 9;
export const MAX_DEADLINE_MS = 24 * 3600 * 1000;

export function taskSchema(l: TaskLimits) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9._:@/-]+$' },
      prompt: { type: 'string', minLength: 1 },
      messages: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_MESSAGES,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['role', 'content'],
          properties: { role: { enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } },
        },
      },
      max_new_tokens: { type: 'integer', minimum: 1, maximum: l.max_new_tokens_limit },
      reasoning: {
        type: 'object',
        additionalProperties: false,
        properties: {
          budget_tokens: { type: 'integer', minimum: 0, maximum: l.max_new_tokens_limit },
          include: { type: 'boolean' },
        },
      },
      temperature: { type: 'number', minimum: 0, maximum: 10 },
      top_k: { type: 'integer', minimum: 0, maximum: 1_000_000 },
      top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      repetition_penalty: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
      seed: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 },
      stop: { type: 'array', maxItems: MAX_STOP, items: { type: 'string', minLength: 1, maxLength: 256 } },
      stream: { type: 'boolean' },
      priority: { type: 'integer', minimum: 0, maximum: MAX_PRIORITY },
      deadline_ms: { type: 'integer', minimum: 1, maximum: MAX_DEADLINE_MS },
      reply_to: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  } as const;
}

/** A task as it arrived and passed the schema. */
export interface TaskRequest {
  id: string;
  prompt?: string;
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
  max_new_tokens?: number;
  reasoning?: { budget_tokens?: number; include?: boolean };
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  seed?: number;
  stop?: string[];
  stream?: boolean;
  priority?: number;
  deadline_ms?: number;
  reply_to?: string;
}
