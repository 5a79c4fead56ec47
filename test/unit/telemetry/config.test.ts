import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/agent/config.js';
import { resolveTelemetry } from '../../../src/telemetry/config.js';
import { tempDir } from '../../helpers/models.js';

test('telemetry keys come from flags, environment and the config file, with defaults', (t) => {
  const file = join(tempDir('reasond-config-'), 'config.json');
  writeFileSync(file, JSON.stringify({ thermal_soft_c: 65, ha_discovery: true }));
  const c = loadConfig({ cli: { config: file, 'metrics-interval': '15' }, env: { REASOND_SYS_ROOT: '/srv/board', REASOND_METRICS_PORT: '9464' } });
  t.like(c, { sys_root: '/srv/board', metrics_interval: 15, metrics_port: 9464, thermal_soft_c: 65, thermal_hard_c: 80, ha_discovery: true, ha_prefix: 'homeassistant', board: 'auto' });
  t.deepEqual(resolveTelemetry(c), {
    sys_root: '/srv/board',
    board: 'auto',
    metrics_interval_s: 15,
    thermal_interval_s: 5,
    metrics_port: 9464,
    metrics_host: '0.0.0.0',
    limits: { soft_c: 65, hard_c: 80, hysteresis_c: 5 },
    policy: { soft_pause_ms: 2000, soft_step_pause_ms: 20, soft_budget_factor: 0.5, retry_after_ms: 30000 },
    home_assistant: { enabled: true, prefix: 'homeassistant' },
  });
});

test('every telemetry problem is reported with its value', (t) => {
  // the loader runs telemetry's cross-key checks with the per-key ones (#19)
  const e = t.throws(() => loadConfig({ cli: { 'thermal-soft-c': '85', 'thermal-hard-c': '80', 'metrics-interval': '45', 'thermal-interval': '7' }, env: {} }));
  t.is((e as any).code, 'invalid_config');
  t.deepEqual((e as any).problems, [
    'thermal_soft_c (85) must be below thermal_hard_c (80)',
    'metrics_interval: must divide a minute, an hour or a day evenly; got 45',
    'thermal_interval: must divide a minute evenly; got 7',
  ]);
  const bad = t.throws(() => loadConfig({ cli: { board: 'pi' }, env: {} }));
  t.regex(bad?.message ?? '', /--board: must be one of auto, generic, raspberry-pi, jetson; got "pi"/);
});
