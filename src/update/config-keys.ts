/**
 * Model updates' keys in the agent's config (#6), declared once (#19):
 * agent/config.ts appends them, like telemetry's; the type is derived.
 */
import type { ConfigKey, ConfigOf } from '../config/index.js';
import { trustedKeysKey } from '../package/trusted-keys.js';

export const updateKeys = [
  { key: 'models_dir', type: 'string', default: '', defaultText: '<data_dir>/models', description: 'Installed model versions, the active link and staging downloads' },
  { ...trustedKeysKey, defaultText: 'none: every deploy is refused', description: 'Comma-separated Ed25519 public key files (.pub) whose signed model packages this agent installs' },
  { key: 'keep_versions', type: 'integer', default: 2, min: 0, max: 100, description: 'Installed versions kept for rollback besides the active one' },
  { key: 'disk_reserve_mb', type: 'integer', default: 64, min: 0, max: 1048576, description: 'Free space (MiB) a deploy must leave on the models_dir disk; checked before downloading' },
  { key: 'probe_timeout_ms', type: 'integer', default: 300000, min: 1000, max: 3600000, description: 'How long the probe process may take to load a staged model and run its smoke checks' },
  { key: 'crash_loop_boots', type: 'integer', default: 3, min: 1, max: 100, description: 'Start-ups on a new version without reaching stable_after_ms before it is rolled back and marked bad' },
  { key: 'stable_after_ms', type: 'integer', default: 120000, min: 1000, max: 86400000, description: "Running this long on a version resets its start-up (crash-loop) count" },
  { key: 'rollback_window_ms', type: 'integer', default: 300000, min: 0, max: 86400000, description: 'After a switch, how long the error rate of the new version is watched' },
  { key: 'rollback_min_tasks', type: 'integer', default: 5, min: 1, max: 100000, description: 'Tasks that must end in the window before the error rate can trigger a rollback' },
  { key: 'rollback_error_percent', type: 'integer', default: 50, min: 1, max: 100, description: 'Share of tasks failing with internal or model_unavailable in the window that rolls the version back' },
] as const satisfies readonly ConfigKey[];

export type UpdateConfig = ConfigOf<typeof updateKeys>;
