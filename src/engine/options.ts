/**
 * Checks and completes generation options. Every error names the field and
 * the value; the agent's schema checks the wire format first, but the engine
 * stays safe on its own (the CLI and tests call it directly).
 */
import { ReasondError } from '../core/errors.js';
import { MAX_STOP, taskSchema } from '../protocol/task.js';
import type { GenerateRequest } from './types.js';

export const DEFAULT_MAX_NEW_TOKENS = 1024;
export const MAX_STOP_STRINGS = MAX_STOP;
// The wire schema's limits, not copies of them (#19): a task the agent accepts is one the engine accepts.
const wire = taskSchema.properties;

export interface ResolvedOptions {
  max_new_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  repetition_penalty: number;
  seed: number;
  stop: string[];
  budget_tokens?: number;
  include_reasoning: boolean;
  deadline_at?: number;
  step_pause_ms: number;
}

const bad = (field: string, value: unknown, rule: string): never => {
  throw new ReasondError('invalid_request', `${field} must be ${rule}; got ${JSON.stringify(value)}`);
};

function intIn(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, v, `an integer from ${min} to ${max}`);
  return v as number;
}

function numIn(field: string, v: unknown, min: number, max: number, openMin = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v > max || v < min || (openMin && v === min)) {
    bad(field, v, `a number ${openMin ? 'above' : 'from'} ${min} ${openMin ? 'and up to' : 'to'} ${max}`);
  }
  return v as number;
}

export function resolveOptions(req: GenerateRequest, defaults: GenerateRequest, contextLength: number): ResolvedOptions {
  const o = { ...defaults, ...req, reasoning: { ...defaults.reasoning, ...req.reasoning } };
  const stop = o.stop ?? [];
  if (!Array.isArray(stop) || stop.length > MAX_STOP_STRINGS || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    bad('stop', stop, `a list of at most ${MAX_STOP_STRINGS} non-empty strings`);
  }
  return {
    max_new_tokens: o.max_new_tokens === undefined ? DEFAULT_MAX_NEW_TOKENS : intIn('max_new_tokens', o.max_new_tokens, 1, contextLength),
    temperature: o.temperature === undefined ? 0 : numIn('temperature', o.temperature, wire.temperature.minimum, wire.temperature.maximum),
    top_k: o.top_k === undefined ? wire.top_k.default : intIn('top_k', o.top_k, wire.top_k.minimum, wire.top_k.maximum),
    top_p: o.top_p === undefined ? wire.top_p.default : numIn('top_p', o.top_p, wire.top_p.exclusiveMinimum, wire.top_p.maximum, true),
    repetition_penalty: o.repetition_penalty === undefined ? wire.repetition_penalty.default : numIn('repetition_penalty', o.repetition_penalty, wire.repetition_penalty.exclusiveMinimum, wire.repetition_penalty.maximum, true),
    seed: o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : intIn('seed', o.seed, wire.seed.minimum, wire.seed.maximum),
    stop,
    budget_tokens:
      o.reasoning.budget_tokens === undefined ? undefined : intIn('reasoning.budget_tokens', o.reasoning.budget_tokens, 0, contextLength),
    include_reasoning: o.reasoning.include ?? true,
    deadline_at: o.deadline_at,
    step_pause_ms: o.step_pause_ms === undefined ? 0 : intIn('step_pause_ms', o.step_pause_ms, 0, 10_000),
  };
}
