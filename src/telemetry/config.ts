/**
 * The settings the telemetry part is built from (the keys and their cross-key
 * checks are in config-keys.ts, run by the config loader). Intervals are whole
 * seconds at the edge (the issue's `--metrics-interval 30`): cron takes seconds.
 */
import { ConfigError } from '../config/index.js';
import type { HomeAssistantSettings } from './export/settings.js';
import type { BoardKind } from './sensors/readings.js';
import type { GuardLimits } from './thermal/guard.js';
import { telemetryChecks, type TelemetryConfig } from './config-keys.js';
import type { PolicySettings } from './thermal/policy.js';

export interface ResolvedTelemetry {
  sys_root: string;
  board: BoardKind | 'auto';
  metrics_interval_s: number;
  thermal_interval_s: number;
  metrics_port: number;
  metrics_host: string;
  limits: GuardLimits;
  policy: PolicySettings;
  home_assistant: HomeAssistantSettings;
}

/** The telemetry part's settings; a config that skipped the loader's cross-key checks is checked here too. */
export function resolveTelemetry(c: TelemetryConfig): ResolvedTelemetry {
  const limits = { soft_c: c.thermal_soft_c, hard_c: c.thermal_hard_c, hysteresis_c: c.thermal_hysteresis_c };
  const problems = telemetryChecks.flatMap((x) => x.check(c));
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    sys_root: c.sys_root,
    board: c.board as BoardKind | 'auto',
    metrics_interval_s: c.metrics_interval,
    thermal_interval_s: c.thermal_interval,
    metrics_port: c.metrics_port,
    metrics_host: c.metrics_host,
    limits,
    policy: { soft_pause_ms: c.thermal_soft_pause_ms, soft_step_pause_ms: c.thermal_soft_step_pause_ms, soft_budget_factor: c.thermal_soft_budget_percent / 100, retry_after_ms: c.thermal_retry_after_ms },
    home_assistant: { enabled: c.ha_discovery, prefix: c.ha_prefix },
  };
}
