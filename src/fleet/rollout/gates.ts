/**
 * Health gates and abort thresholds (issue 7), pure so they are unit-tested
 * with exact numbers. A wave passes when every device of it that has not
 * failed reports the new version active (the agent reports active only
 * after its smoke checks passed in the probe) and each active device's
 * metrics on the new version are within the limits of the previous
 * version's. It aborts when more than max_failures_percent of it failed.
 */
import type { Sample } from '../history.js';

export type DeviceState = 'waiting' | 'deploying' | 'active' | 'failed' | 'rolling_back' | 'rolled_back' | 'skipped';

export interface Strategy {
  canary: number;
  waves: number[];
  /** Share of a wave that may fail (rejected, rolled back, unhealthy) before the rollout aborts. */
  max_failures_percent: number;
  rollback_on_abort: boolean;
  /** How far the new version's tokens/s may fall below the previous version's. */
  max_tps_drop_percent: number;
  /** How many percentage points the new version's error rate may exceed the previous version's. */
  max_error_increase_percent: number;
  /**
   * Tasks each device of a wave must have served on the new version (in its
   * metrics' throughput window) before the gate judges it: evidence for the
   * health check. 0 = judge at once, with whatever metrics there are.
   */
  min_tasks?: number;
  /** Deploy with allow_downgrade: the agents install it even below the version they serve (issue 16). */
  allow_downgrade?: boolean;
}

export type Verdict = { kind: 'wait' } | { kind: 'pass' } | { kind: 'abort'; reason: string };

export function waveVerdict(states: DeviceState[], s: Strategy, wave: number): Verdict {
  const failed = states.filter((x) => x === 'failed').length;
  const percent = states.length ? (failed / states.length) * 100 : 0;
  if (percent > s.max_failures_percent) {
    return { kind: 'abort', reason: `wave ${wave}: ${failed} of ${states.length} devices failed (${Math.round(percent)}% > ${s.max_failures_percent}%)` };
  }
  return states.every((x) => x === 'active' || x === 'failed') ? { kind: 'pass' } : { kind: 'wait' };
}

/** Whether an active device has served enough tasks on the new version for the gate to judge it. */
export function hasEvidence(now: Sample | undefined, s: Strategy): boolean {
  return !s.min_tasks || (now?.tasks ?? 0) >= s.min_tasks;
}

/** Why an active device's figures on the new version fail the gate, or undefined. No tasks, no evidence: it passes. */
export function healthProblem(now: Sample | undefined, before: { tokens_per_s: number | null; error_rate: number | null }, s: Strategy): string | undefined {
  if (!now || !now.tasks) return undefined;
  const rate = (now.errors ?? 0) / now.tasks;
  const limit = (before.error_rate ?? 0) + s.max_error_increase_percent / 100;
  if (rate > limit) return `error rate ${(rate * 100).toFixed(1)}% > ${(limit * 100).toFixed(1)}% allowed`;
  if (now.tokens_per_s !== null && before.tokens_per_s) {
    const floor = before.tokens_per_s * (1 - s.max_tps_drop_percent / 100);
    if (now.tokens_per_s < floor) return `decode ${now.tokens_per_s.toFixed(1)} tokens/s < ${floor.toFixed(1)} (previous version ${before.tokens_per_s.toFixed(1)} - ${s.max_tps_drop_percent}%)`;
  }
  return undefined;
}
