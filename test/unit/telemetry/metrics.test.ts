import test from 'ava';
import { EnergyMeter } from '../../../src/telemetry/metrics/energy.js';
import { Throughput } from '../../../src/telemetry/metrics/throughput.js';
import { percentile, percentiles, SlidingWindow } from '../../../src/telemetry/metrics/window.js';

test('nearest-rank percentiles are observed values', (t) => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  t.deepEqual(percentiles(values), { p50: 50, p95: 95, p99: 99 });
  t.deepEqual(percentiles([30, 10, 20]), { p50: 20, p95: 30, p99: 30 });
  t.is(percentile([], 50), undefined);
  t.is(percentile([7], 99), 7);
});

test('the sliding window drops what is older than its span', (t) => {
  const w = new SlidingWindow<number>(60_000);
  w.push(1_000, 1);
  w.push(30_000, 2);
  w.push(61_000, 3);
  t.deepEqual(w.values(61_000), [2, 3]); // 1_000 <= 61_000 - 60_000
  t.deepEqual(w.values(90_000), [3]);
  t.deepEqual(w.values(200_000), []);
});

test('energy: trapezoids between samples, the last power held after', (t) => {
  const m = new EnergyMeter();
  t.is(m.energyAt(0), undefined);
  m.sample(0, 6);
  m.sample(10_000, 8); // (6 + 8) / 2 * 10 s = 70 J
  t.is(m.energyAt(10_000), 70);
  t.is(m.energyAt(12_500), 90); // + 8 W * 2.5 s
  m.sample(5_000, 100); // a clock step back is ignored
  t.is(m.energyAt(10_000), 70);
  // in the past: power linear between samples, 6 W at 0 s to 7 W at 5 s
  t.is(m.energyAt(5_000), 32.5);
  t.is(m.energyAt(-1), undefined);
  t.is(m.energyAt(12_500)! - m.energyAt(5_000)!, 57.5);
});

test('throughput over a 60 s window: rates, percentiles, rejections and energy per task/token', (t) => {
  const tp = new Throughput(60_000);
  const base = 1_700_000_000_000;
  for (let i = 1; i <= 20; i++) {
    tp.recordTask({
      at: base + i * 1000,
      status: 'ok',
      first_token_ms: i * 10,
      total_ms: i * 100,
      decode_tokens_per_s: 40 + i,
      prefill_tokens_per_s: 200 + i,
      tokens: 100,
      joules: 2,
    });
  }
  tp.recordTask({ at: base + 21_000, status: 'deadline_exceeded', total_ms: 99_999 });
  tp.recordRejection(base + 22_000, 'busy');
  tp.recordRejection(base + 23_000, 'thermal_throttled');
  tp.recordRejection(base + 24_000, 'busy');
  const r = tp.report(base + 30_000);
  t.deepEqual(r, {
    window_s: 60,
    tasks: 20,
    tasks_per_min: 20,
    errors_by_code: { deadline_exceeded: 1 },
    rejections_by_code: { busy: 2, thermal_throttled: 1 },
    rejections_total: { busy: 2, thermal_throttled: 1 },
    decode_tokens_per_s: { p50: 50, p95: 59, p99: 60 },
    prefill_tokens_per_s: { p50: 210, p95: 219, p99: 220 },
    first_token_ms: { p50: 100, p95: 190, p99: 200 },
    latency_ms: { p50: 1000, p95: 1900, p99: 2000 },
    joules_per_task: 2,
    joules_per_token: 0.02,
  });
  // a minute later the window is empty but the totals stay
  const later = tp.report(base + 90_000);
  t.is(later.tasks, 0);
  t.is(later.tasks_per_min, 0);
  t.deepEqual(later.rejections_by_code, {});
  t.deepEqual(later.rejections_total, { busy: 2, thermal_throttled: 1 });
  t.false('latency_ms' in later);
  t.false('joules_per_task' in later);
});

test('after a model switch the window reports only the new version: the old one is not its evidence (issue 16)', (t) => {
  const tp = new Throughput(60_000);
  const base = 1_700_000_000_000;
  for (let i = 1; i <= 5; i++) tp.recordTask({ at: base + i * 1000, status: 'ok', decode_tokens_per_s: 40, model: 'tiny@1.0.0' });
  tp.recordTask({ at: base + 6000, status: 'internal', model: 'tiny@1.0.0' });
  // switched to 1.1.0: nothing of its own yet
  const fresh = tp.report(base + 7000, 'tiny@1.1.0');
  t.is(fresh.tasks, 0);
  t.deepEqual(fresh.errors_by_code, {});
  t.false('decode_tokens_per_s' in fresh);
  tp.recordTask({ at: base + 8000, status: 'ok', decode_tokens_per_s: 20, model: 'tiny@1.1.0' });
  const one = tp.report(base + 9000, 'tiny@1.1.0');
  t.is(one.tasks, 1);
  t.deepEqual(one.decode_tokens_per_s, { p50: 20, p95: 20, p99: 20 });
  // without a model, the whole window as before
  t.is(tp.report(base + 9000).tasks, 6);
});
