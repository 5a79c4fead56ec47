import test from 'ava';
import { Telemetry, type Publish } from '../../../src/telemetry/service.js';
import { Sensors } from '../../../src/telemetry/sensors/index.js';
import { PrometheusExporter } from '../../../src/telemetry/export/prometheus.js';
import { DEFAULT_POLICY } from '../../../src/telemetry/thermal/policy.js';
import { isReasondError } from '../../../src/core/errors.js';
import { join } from 'node:path';
import { Database } from '../../../src/store/index.js';
import { migrations } from '../../../src/agent/migrations.js';
import { MetricsStore } from '../../../src/telemetry/store/metrics-store.js';
import { tempDir } from '../../helpers/models.js';
import { ManualClock, ManualScheduler } from '../../helpers/manual-scheduler.js';
import { copySysFixture, fixtureCommands, setTemp, type BoardFixture } from '../../helpers/sysfs.js';
import { writeFileSync } from 'node:fs';

const T0 = Date.UTC(2026, 10, 29, 3, 0, 0);
const heap = () => ({ rss: 0, heapTotal: 50 * 2 ** 20, heapUsed: 40 * 2 ** 20, external: 2 ** 20 });

function rig(board: BoardFixture, ha = false, store?: MetricsStore) {
  const root = copySysFixture(board);
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const sent: { topic: string; payload: any; retain: boolean; at: number }[] = [];
  const publish: Publish = async (topic, payload, { retain }) => void sent.push({ topic, payload, retain, at: clock.now() });
  const prometheus = new PrometheusExporter();
  const telemetry = new Telemetry(
    {
      base_topic: 'reasond',
      device_id: 'b1',
      agent_version: '0.1.0',
      metrics_interval_s: 30,
      thermal_interval_s: 5,
      limits: { soft_c: 70, hard_c: 80, hysteresis_c: 5 },
      policy: DEFAULT_POLICY,
      home_assistant: { enabled: ha, prefix: 'homeassistant' },
    },
    { sensors: new Sensors({ root, run: fixtureCommands(root) }), scheduler, now: clock.now, publish, prometheus, heap, queueDepth: () => 0, ...(store ? { store } : {}) },
  );
  return { root, clock, scheduler, sent, telemetry, prometheus };
}

test('metrics go out retained at start and every 30 s of the injected clock', async (t) => {
  const { scheduler, sent, telemetry } = rig('x86');
  await telemetry.start();
  await scheduler.advance(95_000);
  const metrics = sent.filter((m) => m.topic === 'reasond/b1/metrics');
  t.deepEqual(metrics.map((m) => m.at - T0), [0, 30_000, 60_000, 90_000]);
  t.true(metrics.every((m) => m.retain));
  t.is(metrics[3]!.payload.uptime_s, 90);
  t.is(metrics[3]!.payload.at, '2026-11-29T03:01:30.000Z');
  t.deepEqual(scheduler.names.sort(), ['metrics', 'rollup-hours', 'rollup-minutes', 'thermal']);
  await telemetry.stop();
  await scheduler.advance(60_000);
  t.is(sent.filter((m) => m.topic === 'reasond/b1/metrics').length, 4);
  t.deepEqual(scheduler.names, []);
});

test('heating the fixture makes the guard go soft, hard and back, with one event each and thermal_throttled while hard', async (t) => {
  const { root, scheduler, sent, telemetry } = rig('rpi5');
  const policies: string[] = [];
  telemetry.onPolicy((p) => policies.push(p.state));
  await telemetry.start();
  t.is(telemetry.state, 'normal');
  setTemp(root, 'thermal_zone0', 72.5);
  await scheduler.advance(5_000);
  t.is(telemetry.state, 'soft');
  t.deepEqual(telemetry.policy, { state: 'soft', accept: true, max_concurrency: 1, pause_ms: 2000, step_pause_ms: 20, budget_factor: 0.5 });
  t.notThrows(() => telemetry.admit());
  setTemp(root, 'thermal_zone0', 81);
  await scheduler.advance(5_000);
  const err = t.throws(() => telemetry.admit());
  t.true(isReasondError(err));
  t.is((err as any).code, 'thermal_throttled');
  t.is((err as any).retryAfterMs, 30_000);
  t.is(err?.message, 'the board is at 81 °C, above its hard limit; retry after 30000 ms');
  setTemp(root, 'thermal_zone0', 60);
  await scheduler.advance(5_000);
  t.is(telemetry.state, 'normal');
  const events = sent.filter((m) => m.topic === 'reasond/b1/events');
  t.true(events.every((e) => !e.retain));
  t.deepEqual(
    events.map((e) => [e.payload.from, e.payload.to, e.payload.reason, e.payload.temp_c, e.payload.at]),
    [
      ['normal', 'soft', 'temperature', 72.5, '2026-11-29T03:00:05.000Z'],
      ['soft', 'hard', 'temperature', 81, '2026-11-29T03:00:10.000Z'],
      ['hard', 'normal', 'cooled', 60, '2026-11-29T03:00:15.000Z'],
    ],
  );
  t.deepEqual(events[1]!.payload.policy, { state: 'hard', accept: false, step_pause_ms: 0, pause_ms: 0, budget_factor: 1, retry_after_ms: 30_000 });
  t.deepEqual(policies, ['soft', 'hard', 'normal']);
  await telemetry.stop();
});

test('energy per task from the Orin rails; rejections counted; Home Assistant discovery at start', async (t) => {
  const { root, clock, scheduler, sent, telemetry, prometheus } = rig('jetson-orin-nano', true);
  await telemetry.start(); // VDD_IN 6 W sampled at T0
  const started = clock.now();
  await scheduler.advance(10_000); // samples at 5 s and 10 s, still 6 W
  await telemetry.recordTask({
    status: 'ok',
    started_at: started,
    timing: { first_token_ms: 500, total_ms: 10_000, decode_tokens_per_s: 20, prefill_tokens_per_s: 300 },
    usage: { prompt_tokens: 40, completion_tokens: 200 },
  });
  await telemetry.recordRejection('busy');
  await scheduler.advance(20_000); // metrics at 30 s
  const m = sent.filter((x) => x.topic === 'reasond/b1/metrics').at(-1)!.payload;
  t.is(m.throughput.joules_per_task, 60); // 6 W for 10 s
  t.is(m.throughput.joules_per_token, 0.25);
  t.is(m.power.energy_j, 180); // 6 W for 30 s
  t.is(m.power.board_w, 6);
  t.deepEqual(m.throughput.rejections_total, { busy: 1 });
  const discovery = sent.filter((x) => x.topic.startsWith('homeassistant/'));
  // five sensors, power on a Jetson, and the Ask text entity with its Answer sensor (issue 20)
  t.deepEqual(discovery.map((d) => d.topic.split('/').slice(1, 2).concat(d.topic.split('/').slice(3, 4)).join('/')), [
    'sensor/temperature', 'sensor/decode_speed', 'sensor/tasks_per_minute', 'sensor/thermal_state', 'sensor/memory_available', 'sensor/power', 'text/ask', 'sensor/answer',
  ]);
  t.true(discovery.every((d) => d.retain && d.at === T0));
  t.is(discovery[0]!.payload.device.model, 'NVIDIA Jetson Orin Nano Developer Kit');
  t.true((await prometheus.render()).includes('reasond_rejections_total{code="busy"} 1'));
  await telemetry.stop();
});

test('the schedule stores samples and rolls them up into minutes and hours in SQLite', async (t) => {
  const db = new Database(join(tempDir('reasond-service-'), 'reasond.db'), migrations);
  await db.start();
  t.teardown(() => db.stop());
  const { scheduler, telemetry } = rig('jetson-orin-nano', false, new MetricsStore(db));
  await telemetry.start();
  await scheduler.advance(3600_000 + 90_000); // to 04:01:30: the hour job ran at 04:01:10
  await telemetry.stop();
  const count = (res: string) => db.all<{ n: number; rows: number }>('SELECT COUNT(*) AS rows, SUM(n) AS n FROM metric_samples WHERE resolution = ?', [res]);
  t.deepEqual(await count('raw'), [{ rows: 124, n: 124 }]); // 03:00:00 .. 04:01:30 every 30 s
  t.deepEqual(await count('minute'), [{ rows: 61, n: 122 }]); // complete minutes 03:00 .. 04:00
  t.deepEqual(await db.all("SELECT at, n, hottest_c_max, power_w_avg, energy_j FROM metric_samples WHERE resolution = 'hour'"), [
    // a sample holds the energy since the one before it: 03:00:30 .. 03:59:30 at 6 W × 30 s;
    // the 03:59:30 .. 04:00:00 share is in the 04:00:00 sample, so in the next hour
    { at: T0, n: 120, hottest_c_max: 49, power_w_avg: 6, energy_j: 119 * 180 },
  ]);
});

test("the Pi firmware's flags: a change is an event, and throttling makes the guard soft", async (t) => {
  const { root, scheduler, sent, telemetry } = rig('rpi5');
  await telemetry.start(); // 0x80000: only "soft limit since boot", nothing now: no event
  writeFileSync(join(root, '.commands/vcgencmd_get_throttled'), 'throttled=0x50005\n'); // under-voltage + throttled now
  await scheduler.advance(5_000);
  writeFileSync(join(root, '.commands/vcgencmd_get_throttled'), 'throttled=0x50000\n');
  await scheduler.advance(5_000);
  const events = sent.filter((m) => m.topic === 'reasond/b1/events').map((m) => m.payload);
  t.deepEqual(
    events.map((e) => [e.type, e.type === 'thermal' ? `${e.from}>${e.to}:${e.reason}` : e.raw]),
    [
      ['thermal', 'normal>soft:board_throttling'],
      ['board_throttling', '0x50005'],
      ['thermal', 'soft>normal:cooled'],
      ['board_throttling', '0x50000'],
    ],
  );
  t.deepEqual(events[1].now, { under_voltage: true, freq_capped: false, throttled: true, soft_temp_limit: false });
  await telemetry.stop();
});
