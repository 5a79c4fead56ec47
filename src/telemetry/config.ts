/**
 * The settings the telemetry part is built from, checked across keys (the keys
 * themselves are in config-keys.ts). Intervals are whole seconds at the edge (the
 * issue's `--metrics-interval 30`).
 */
import { ConfigError } from '../config/load.js';
import type { HomeAssistantSettings } from './export/settings.js';
import { cronEvery } from '../core/scheduler.js';
import type { BoardKind } from './sensors/readings.js';
import { validateLimits, type GuardLimits } from './thermal/guard.js';
import type { PolicySettings } from './thermal/policy.js';

export interface TelemetryConfig {
  sys_root: string;
  board: string;
  metrics_interval: number;
  thermal_interval: number;
  metrics_port: number;
  metrics_host: string;
  thermal_soft_c: number;
  thermal_hard_c: number;
  thermal_hysteresis_c: number;
  thermal_retry_after_ms: number;
  thermal_soft_pause_ms: number;
  thermal_soft_step_pause_ms: number;
  thermal_soft_budget_percent: number;
  ha_discovery: boolean;
  ha_prefix: string;
}

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

/** Checks what single keys cannot (limits in order, cron-able periods) and reports every problem with its value. */
export function resolveTelemetry(c: TelemetryConfig): ResolvedTelemetry {
  const limits = { soft_c: c.thermal_soft_c, hard_c: c.thermal_hard_c, hysteresis_c: c.thermal_hysteresis_c };
  const problems = validateLimits(limits);
  if (!cronEvery(c.metrics_interval)) problems.push(`metrics_interval: must divide a minute, an hour or a day evenly; got ${c.metrics_interval}`);
  if (!cronEvery(c.thermal_interval) || c.thermal_interval >= 60) problems.push(`thermal_interval: must divide a minute evenly; got ${c.thermal_interval}`);
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
