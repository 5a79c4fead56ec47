/**
 * Checks and completes generation options. Every error names the field and
 * the value; the agent's schema checks the wire format first, but the engine
 * stays safe on its own (the CLI and tests call it directly).
 */
import { ReasondError } from '../core/errors.js';
import type { GenerateRequest } from './types.js';

export const DEFAULT_MAX_NEW_TOKENS = 1024;
export const MAX_STOP_STRINGS = 16;

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
    temperature: o.temperature === undefined ? 0 : numIn('temperature', o.temperature, 0, 10),
    top_k: o.top_k === undefined ? 0 : intIn('top_k', o.top_k, 0, 1_000_000),
    top_p: o.top_p === undefined ? 1 : numIn('top_p', o.top_p, 0, 1, true),
    repetition_penalty: o.repetition_penalty === undefined ? 1 : numIn('repetition_penalty', o.repetition_penalty, 0, 10, true),
    seed: o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : intIn('seed', o.seed, 0, 2 ** 32 - 1),
    stop,
    budget_tokens:
      o.reasoning.budget_tokens === undefined ? undefined : intIn('reasoning.budget_tokens', o.reasoning.budget_tokens, 0, contextLength),
    include_reasoning: o.reasoning.include ?? true,
    deadline_at: o.deadline_at,
    step_pause_ms: o.step_pause_ms === undefined ? 0 : intIn('step_pause_ms', o.step_pause_ms, 0, 10_000),
  };
}
