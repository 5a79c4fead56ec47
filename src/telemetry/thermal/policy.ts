/**
 * What each guard state means for the task intake (#5). Soft: one task at a time,
 * a pause between decode steps and half the reasoning budget, so the board sheds
 * heat while it keeps answering. Hard: no new tasks; the reply says when to retry.
 */
import { ReasondError } from '../../errors.js';
import type { ThermalState } from './guard.js';

export interface PacePolicy {
  state: ThermalState;
  accept: boolean;
  /** Most tasks running at once; undefined = the agent's own setting. */
  max_concurrency?: number;
  /** Pause between decode steps. */
  step_delay_ms: number;
  /** Multiplier on the task's reasoning budget (and max_new_tokens when no budget is set). */
  budget_factor: number;
  retry_after_ms?: number;
}

export interface PolicySettings {
  soft_step_delay_ms: number;
  soft_budget_factor: number;
  retry_after_ms: number;
}

export const DEFAULT_POLICY: PolicySettings = { soft_step_delay_ms: 20, soft_budget_factor: 0.5, retry_after_ms: 30_000 };

export function policyFor(state: ThermalState, s: PolicySettings = DEFAULT_POLICY): PacePolicy {
  if (state === 'hard') return { state, accept: false, step_delay_ms: 0, budget_factor: 1, retry_after_ms: s.retry_after_ms };
  if (state === 'soft')
    return { state, accept: true, max_concurrency: 1, step_delay_ms: s.soft_step_delay_ms, budget_factor: s.soft_budget_factor };
  return { state, accept: true, step_delay_ms: 0, budget_factor: 1 };
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
