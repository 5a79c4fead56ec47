/**
 * Telemetry's keys in the agent's config (#5), declared once (#19): agent/config.ts
 * appends them, so the type, flags, environment variables, the config file, --help
 * and the README table all come from here; telemetryChecks are the cross-key rules.
 */
import type { ConfigKey, ConfigOf, CrossCheck } from '../config/index.js';
import { cronEvery } from '../core/scheduler.js';
import { BOARD_KINDS } from './sensors/boards.js';
import { validateLimits } from './thermal/guard.js';

export const telemetryKeys = [
  { key: 'sys_root', type: 'string', default: '/', description: 'Root folder the sensors read sys/ and proc/ under (a fixture tree on a laptop or in tests)' },
  { key: 'board', type: 'string', default: 'auto', choices: ['auto', ...BOARD_KINDS], description: 'Sensor profile; auto reads the device-tree model' },
  { key: 'metrics_interval', type: 'integer', default: 30, min: 1, max: 86400, description: 'Seconds between retained metrics messages and samples; must divide a minute, an hour or a day (5, 10, 15, 30, 60, 300...)' },
  { key: 'thermal_interval', type: 'integer', default: 5, min: 1, max: 60, description: 'Seconds between thermal guard checks; must divide a minute' },
  { key: 'metrics_port', type: 'integer', default: 0, min: 0, max: 65535, description: 'Serve Prometheus metrics on http://<metrics_host>:<port>/metrics; 0 = off' },
  { key: 'metrics_host', type: 'string', default: '0.0.0.0', description: 'Address the Prometheus endpoint listens on' },
  // Pi 5 firmware caps the clock from 80 °C and throttles hard at 85 °C; Orin's tj limit is near 99 °C
  { key: 'thermal_soft_c', type: 'integer', default: 70, min: 20, max: 120, description: 'Above this (hottest zone, °C) the agent slows down: one task at a time, a pause before each, a smaller reasoning budget' },
  { key: 'thermal_hard_c', type: 'integer', default: 80, min: 20, max: 125, description: 'Above this the agent takes no tasks and answers thermal_throttled with retry_after_ms' },
  { key: 'thermal_hysteresis_c', type: 'integer', default: 5, min: 0, max: 30, description: 'A limit is left only this far below it, so a board at the line does not flap' },
  { key: 'thermal_retry_after_ms', type: 'integer', default: 30000, min: 1000, max: 3600000, description: 'retry_after_ms in thermal_throttled answers' },
  { key: 'thermal_soft_pause_ms', type: 'integer', default: 2000, min: 0, max: 600000, description: 'In soft mode, the pause before each task starts' },
  { key: 'thermal_soft_step_pause_ms', type: 'integer', default: 20, min: 0, max: 10000, description: 'In soft mode, the pause after every decode step (the engine idles the CPU between tokens)' },
  { key: 'thermal_soft_budget_percent', type: 'integer', default: 50, min: 1, max: 100, description: "In soft mode, the reasoning budget as a percentage of the task's (or of max_new_tokens)" },
  { key: 'ha_discovery', type: 'boolean', default: false, description: 'Publish Home Assistant MQTT discovery configs: temperature, tokens/s and state sensors, an Ask text entity and an Answer sensor to ask the board a question (answered as a task on <base_topic>/<device>/ha/answer), and one sensor per scheduled job' },
  { key: 'ha_prefix', type: 'string', default: 'homeassistant', description: "Home Assistant's discovery prefix" },
] as const satisfies readonly ConfigKey[];

export type TelemetryConfig = ConfigOf<typeof telemetryKeys>;

/** Limits in order, and periods a cron expression can say: checked with the other keys, every problem with its value. */
export const telemetryChecks: readonly CrossCheck<TelemetryConfig>[] = [
  {
    keys: ['thermal_soft_c', 'thermal_hard_c', 'thermal_hysteresis_c'],
    check: (c) => validateLimits({ soft_c: c.thermal_soft_c, hard_c: c.thermal_hard_c, hysteresis_c: c.thermal_hysteresis_c }),
  },
  { keys: ['metrics_interval'], check: (c) => (cronEvery(c.metrics_interval) ? [] : [`metrics_interval: must divide a minute, an hour or a day evenly; got ${c.metrics_interval}`]) },
  { keys: ['thermal_interval'], check: (c) => (cronEvery(c.thermal_interval) && c.thermal_interval < 60 ? [] : [`thermal_interval: must divide a minute evenly; got ${c.thermal_interval}`]) },
];
