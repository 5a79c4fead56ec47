/**
 * Model updates' entries in the agent's one config schema (#6):
 * src/config/schema.ts appends them, like telemetry's. Only type imports
 * from src/config, so there is no import cycle.
 */
import type { ConfigKey } from '../config/schema.js';

export const updateKeys: readonly ConfigKey[] = [
  { key: 'models_dir', type: 'string', default: '', defaultText: '<data_dir>/models', description: 'Installed model versions, the active link and staging downloads' },
  { key: 'trusted_keys', type: 'string', default: '', defaultText: 'none: every deploy is refused', description: 'Comma-separated Ed25519 public key files (.pub) whose signed model packages this agent installs' },
  { key: 'keep_versions', type: 'integer', default: 2, min: 0, max: 100, description: 'Installed versions kept for rollback besides the active one' },
  { key: 'disk_reserve_mb', type: 'integer', default: 64, min: 0, max: 1048576, description: 'Free space (MiB) a deploy must leave on the models_dir disk; checked before downloading' },
  { key: 'probe_timeout_ms', type: 'integer', default: 300000, min: 1000, max: 3600000, description: 'How long the probe process may take to load a staged model and run its smoke checks' },
  { key: 'crash_loop_boots', type: 'integer', default: 3, min: 1, max: 100, description: 'Start-ups on a new version without reaching stable_after_ms before it is rolled back and marked bad' },
  { key: 'stable_after_ms', type: 'integer', default: 120000, min: 1000, max: 86400000, description: "Running this long on a version resets its start-up (crash-loop) count" },
  { key: 'rollback_window_ms', type: 'integer', default: 300000, min: 0, max: 86400000, description: 'After a switch, how long the error rate of the new version is watched' },
  { key: 'rollback_min_tasks', type: 'integer', default: 5, min: 1, max: 100000, description: 'Tasks that must end in the window before the error rate can trigger a rollback' },
  { key: 'rollback_error_percent', type: 'integer', default: 50, min: 1, max: 100, description: 'Share of tasks failing with internal or model_unavailable in the window that rolls the version back' },
];

export interface UpdateConfig {
  models_dir: string;
  trusted_keys: string;
  keep_versions: number;
  disk_reserve_mb: number;
  probe_timeout_ms: number;
  crash_loop_boots: number;
  stable_after_ms: number;
  rollback_window_ms: number;
  rollback_min_tasks: number;
  rollback_error_percent: number;
}
