import test from 'ava';
import { discoveryMessages } from '../../../src/telemetry/export/home-assistant.js';
import { MetricsHttpServer } from '../../../src/telemetry/export/metrics-http.js';
import { PrometheusExporter } from '../../../src/telemetry/export/prometheus.js';
import { buildMetricsPayload, type PayloadInput } from '../../../src/telemetry/metrics/payload.js';
import { Throughput } from '../../../src/telemetry/metrics/throughput.js';
import { MemoryPressure } from '../../../src/telemetry/metrics/memory-pressure.js';
import { cronEvery } from '../../../src/core/scheduler.js';
import { Sensors } from '../../../src/telemetry/sensors/index.js';
import { fixtureCommands, sysFixture } from '../../helpers/sysfs.js';
import { ManualClock, ManualScheduler } from '../../helpers/manual-scheduler.js';

const AT = Date.UTC(2026, 10, 29, 3, 0, 0);
const heap = { rss: 1, heapTotal: 100 * 2 ** 20, heapUsed: 60 * 2 ** 20, external: 5 * 2 ** 20 };

async function payloadFor(board: 'rpi5' | 'jetson-orin-nano' | 'x86', extra: Partial<PayloadInput> = {}) {
  const root = sysFixture(board);
  const readings = await new Sensors({ root, run: fixtureCommands(root) }).read();
  const throughput = new Throughput(60_000);
  throughput.recordTask({ at: AT - 1000, status: 'ok', decode_tokens_per_s: 12.5, total_ms: 3000, first_token_ms: 400, tokens: 200, joules: 30 });
  return buildMetricsPayload({
    at: AT,
    device: 'pi-7',
    agent_version: '0.1.0',
    model: { name: 'reasond-tiny', version: '1.0.0', dtype: 'q8' },
    uptime_s: 120,
    readings,
    throughput: throughput.report(AT),
    queue_depth: 2,
    heap,
    guard: 'normal',
    memory_state: 'normal',
    ...extra,
  });
}

test('metrics payload of a Pi 5: exact figures, PMIC power', async (t) => {
  const p = await payloadFor('rpi5');
  t.is(p.at, '2026-11-29T03:00:00.000Z');
  t.deepEqual(p.board, { kind: 'raspberry-pi', model: 'Raspberry Pi 5 Model B Rev 1.0' });
  t.deepEqual(p.memory, {
    rss_bytes: 398336 * 1024,
    heap_used_bytes: 60 * 2 ** 20,
    heap_total_bytes: 100 * 2 ** 20,
    native_bytes: 398336 * 1024 - 100 * 2 ** 20,
    external_bytes: 5 * 2 ** 20,
    state: 'normal',
    system_total_bytes: 8245744 * 1024,
    system_available_bytes: 7301888 * 1024,
    swap_total_bytes: 204796 * 1024,
    swap_used_bytes: 0,
    process_swap_bytes: 0,
  });
  t.deepEqual(p.thermal.zones, { 'cpu-thermal': 52.65 });
  t.is(p.thermal.hottest_c, 52.65);
  t.is(p.thermal.throttling?.since_boot.soft_temp_limit, true);
  t.deepEqual(p.cpu, { load_1: 0.52, load_5: 0.48, load_15: 0.41, freq_mhz: { cpu0: 1500, cpu1: 1500, cpu2: 2400, cpu3: 1500 }, max_freq_mhz: 2400 });
  t.is(p.throughput.queue_depth, 2);
  t.deepEqual(p.throughput.decode_tokens_per_s, { p50: 12.5, p95: 12.5, p99: 12.5 });
  t.is(p.throughput.joules_per_token, 0.15);
  t.is(p.power?.board_w, 2.746);
  t.is(p.power?.source, 'pmic_sum');
  t.false('power' in (await payloadFor('x86')));
});

test('metrics payload of an Orin Nano carries rails, input power, energy and the power mode', async (t) => {
  const p = await payloadFor('jetson-orin-nano', { energy_j: 123.45678 });
  t.deepEqual(p.power, {
    rails: {
      VDD_IN: { voltage_v: 5, current_a: 1.2, power_w: 6 },
      VDD_CPU_GPU_CV: { voltage_v: 5, current_a: 0.4, power_w: 2 },
      VDD_SOC: { voltage_v: 5, current_a: 0.3, power_w: 1.5 },
    },
    board_w: 6,
    source: 'VDD_IN',
    energy_j: 123.457,
  });
  t.deepEqual(p.board.power_mode, { id: 0, name: '15W' });
  t.is(p.thermal.hottest_zone, 'tj-thermal');
  t.false('throttling' in p.thermal);
});

test('Prometheus exposition uses base units and leaves absent readings out', async (t) => {
  const prom = new PrometheusExporter();
  prom.recordTask({ at: AT, status: 'ok', total_ms: 3000, first_token_ms: 400, tokens: 200 });
  prom.recordTask({ at: AT, status: 'deadline_exceeded' });
  prom.recordRejection('thermal_throttled');
  prom.update(await payloadFor('jetson-orin-nano', { guard: 'soft', energy_j: 10, batch: { running: 3, max: 4 } }));
  const text = await prom.render();
  for (const line of [
    'reasond_tasks_total{status="ok"} 1',
    'reasond_tasks_total{status="deadline_exceeded"} 1',
    'reasond_rejections_total{code="thermal_throttled"} 1',
    'reasond_task_duration_seconds_bucket{le="5"} 1',
    'reasond_task_duration_seconds_sum 3',
    'reasond_tokens_total 200',
    'reasond_decode_tokens_per_second 12.5',
    'reasond_temperature_celsius{zone="tj-thermal"} 49',
    'reasond_thermal_guard_state{state="soft"} 1',
    'reasond_thermal_guard_state{state="normal"} 0',
    'reasond_power_watts{rail="VDD_IN"} 6',
    'reasond_board_power_watts{source="VDD_IN"} 6',
    'reasond_energy_joules 10',
    'reasond_queue_depth 2',
    'reasond_running_tasks 3',
    'reasond_batch_occupancy 0.75',
    'reasond_info{agent_version="0.1.0",model="reasond-tiny",board="jetson"} 1',
  ])
    t.true(text.split('\n').includes(line), line);
  t.false(text.includes('zone="cv0-thermal"'));

  const pc = new PrometheusExporter();
  pc.update(await payloadFor('x86'));
  t.false((await pc.render()).includes('reasond_power_watts{'));
});

test('GET /metrics serves the exposition; other paths are 404', async (t) => {
  const prom = new PrometheusExporter();
  prom.recordRejection('busy');
  const server = new MetricsHttpServer(prom, 0, '127.0.0.1');
  await server.start();
  try {
    const res = await fetch(`http://127.0.0.1:${server.boundPort}/metrics`);
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /^text\/plain/);
    t.true((await res.text()).includes('reasond_rejections_total{code="busy"} 1'));
    t.is((await fetch(`http://127.0.0.1:${server.boundPort}/`)).status, 404);
  } finally {
    await server.stop();
  }
});

test('Home Assistant discovery: one retained config per entity, power only with rails', (t) => {
  const msgs = discoveryMessages({ prefix: 'homeassistant', base: 'reasond', device: 'pi-7', agent_version: '0.1.0', board_model: 'Raspberry Pi 5 Model B Rev 1.0', has_power: false });
  t.deepEqual(
    msgs.map((m) => m.topic),
    [
      ...['temperature', 'decode_speed', 'tasks_per_minute', 'thermal_state', 'memory_available'].map((o) => `homeassistant/sensor/reasond_pi-7/${o}/config`),
      'homeassistant/text/reasond_pi-7/ask/config',
      'homeassistant/sensor/reasond_pi-7/answer/config',
    ],
  );
  const device = { identifiers: ['reasond_pi-7'], name: 'reasond pi-7', manufacturer: 'reasond', model: 'Raspberry Pi 5 Model B Rev 1.0', sw_version: '0.1.0' };
  const availability = { availability_topic: 'reasond/pi-7/status', availability_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' };
  // asking the board (issue 20): a text entity that sends the question, a sensor with the last answer
  t.deepEqual(msgs.at(-2)!.payload, {
    name: 'Ask', icon: 'mdi:chat-question', mode: 'text', min: 1, max: 255, command_topic: 'reasond/pi-7/ha/ask',
    unique_id: 'reasond_pi-7_ask', object_id: 'reasond_pi-7_ask', ...availability, device,
  });
  t.deepEqual(msgs.at(-1)!.payload, {
    name: 'Answer', icon: 'mdi:head-lightbulb', state_topic: 'reasond/pi-7/ha/answer',
    value_template: "{{ (value_json.answer if value_json.status == 'ok' else 'error: ' ~ value_json.error.code)[:255] }}",
    json_attributes_topic: 'reasond/pi-7/ha/answer',
    json_attributes_template: "{{ {'answer': value_json.get('answer'), 'reasoning': value_json.get('reasoning'), 'finish_reason': value_json.get('finish_reason'), 'error': value_json.get('error'), 'task_id': value_json.id} | tojson }}",
    unique_id: 'reasond_pi-7_answer', object_id: 'reasond_pi-7_answer', ...availability, device,
  });
  t.deepEqual(msgs[0]!.payload, {
    name: 'Temperature',
    device_class: 'temperature',
    unit_of_measurement: '°C',
    state_class: 'measurement',
    value_template: '{{ value_json.thermal.hottest_c if value_json.thermal.hottest_c is defined else None }}',
    unique_id: 'reasond_pi-7_temperature',
    object_id: 'reasond_pi-7_temperature',
    state_topic: 'reasond/pi-7/metrics',
    availability_topic: 'reasond/pi-7/status',
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
    device: { identifiers: ['reasond_pi-7'], name: 'reasond pi-7', manufacturer: 'reasond', model: 'Raspberry Pi 5 Model B Rev 1.0', sw_version: '0.1.0' },
  });
  const jetson = discoveryMessages({ prefix: 'ha', base: 'site/a', device: 'orin.1', agent_version: '0.1.0', has_power: true });
  t.is(jetson.at(-3)!.topic, 'ha/sensor/reasond_orin_1/power/config');
  t.is(jetson.at(-3)!.payload.state_topic, 'site/a/orin.1/metrics');
  t.is(jetson.at(-2)!.payload.command_topic, 'site/a/orin.1/ha/ask');
});

test('memory pressure enters below 10% available and leaves above 15%', (t) => {
  const m = new MemoryPressure();
  t.is(m.update(1, 50, 100), undefined);
  t.deepEqual(m.update(2, 9, 100), { type: 'memory', from: 'normal', to: 'pressure', at: 2, available_bytes: 9, total_bytes: 100 });
  t.is(m.update(3, 14, 100), undefined);
  t.is(m.update(4, 16, 100)?.to, 'normal');
  t.is(m.update(5, undefined, 100), undefined);
});

test('cron expressions for periods, and the manual scheduler fires them on the clock', async (t) => {
  t.is(cronEvery(30), '*/30 * * * * *');
  t.is(cronEvery(60), '0 */1 * * * *');
  t.is(cronEvery(600), '0 */10 * * * *');
  t.is(cronEvery(3600), '0 0 */1 * * *');
  t.is(cronEvery(45), undefined);
  t.is(cronEvery(0), undefined);
  t.is(cronEvery(7200 + 60), undefined);
  const clock = new ManualClock(AT + 5_000); // 03:00:05
  const s = new ManualScheduler(clock);
  const fired: number[] = [];
  const cancel = s.schedule(cronEvery(30)!, 'metrics', () => void fired.push(clock.now()));
  await s.advance(90_000); // to 03:01:35
  t.deepEqual(fired, [AT + 30_000, AT + 60_000, AT + 90_000]);
  cancel();
  await s.advance(60_000);
  t.is(fired.length, 3);
});
