/**
 * What each guard state means for the task intake (#5). Soft: one task at a time,
 * a pause before each task and half the reasoning budget, so the board sheds heat
 * while it keeps answering. Hard: no new tasks; the reply says when to retry.
 * The engine also waits step_pause_ms after every decode step in soft mode.
 */
import type { GenerateRequest } from '../../engine/types.js';
import { ReasondError } from '../../core/errors.js';
import type { ThermalState } from './guard.js';

export interface PacePolicy {
  state: ThermalState;
  accept: boolean;
  /** Most tasks running at once; undefined = the agent's own setting. */
  max_concurrency?: number;
  /** Pause before each task starts. */
  pause_ms: number;
  /** Pause after every decode step, inside the engine. */
  step_pause_ms: number;
  /** Multiplier on the task's reasoning budget (and max_new_tokens when no budget is set). */
  budget_factor: number;
  retry_after_ms?: number;
}

export interface PolicySettings {
  soft_pause_ms: number;
  soft_step_pause_ms: number;
  soft_budget_factor: number;
  retry_after_ms: number;
}

export const DEFAULT_POLICY: PolicySettings = { soft_pause_ms: 2000, soft_step_pause_ms: 20, soft_budget_factor: 0.5, retry_after_ms: 30_000 };

export function policyFor(state: ThermalState, s: PolicySettings = DEFAULT_POLICY): PacePolicy {
  if (state === 'hard') return { state, accept: false, pause_ms: 0, step_pause_ms: 0, budget_factor: 1, retry_after_ms: s.retry_after_ms };
  if (state === 'soft')
    return { state, accept: true, max_concurrency: 1, pause_ms: s.soft_pause_ms, step_pause_ms: s.soft_step_pause_ms, budget_factor: s.soft_budget_factor };
  return { state, accept: true, pause_ms: 0, step_pause_ms: 0, budget_factor: 1 };
}

/** The error a task gets while the guard is hard. */
export function thermalThrottled(policy: PacePolicy, temp_c?: number): ReasondError {
  const where = temp_c === undefined ? 'the board is' : `the board is at ${temp_c} °C,`;
  return new ReasondError('thermal_throttled', `${where} above its hard limit; retry after ${policy.retry_after_ms} ms`, {
    retryAfterMs: policy.retry_after_ms,
  });
}

/** A reasoning budget scaled for soft mode; never below 1 token. */
export function scaledBudget(budget: number | undefined, policy: PacePolicy): number | undefined {
  if (budget === undefined || policy.budget_factor === 1) return budget;
  return Math.max(1, Math.floor(budget * policy.budget_factor));
}

/**
 * The engine request a task runs with under `policy`: in soft mode the reasoning
 * budget shrinks (a task with none gets one, from max_new_tokens), so a hot board
 * spends fewer decode steps per answer. Returns the request unchanged otherwise.
 */
export function pacedRequest(req: GenerateRequest, policy: PacePolicy): GenerateRequest {
  const paced = policy.step_pause_ms > 0 ? { ...req, step_pause_ms: policy.step_pause_ms } : req;
  if (policy.budget_factor === 1) return paced;
  const base = req.reasoning?.budget_tokens ?? req.max_new_tokens;
  if (base === undefined) return paced;
  return { ...paced, reasoning: { ...req.reasoning, budget_tokens: scaledBudget(base, policy)! } };
}
